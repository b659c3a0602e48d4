// The dotnet8 probe: runs on the image's .NET 8 runtime (compiled by Mono's mcs here; see
// TOOLCHAIN-NOTES). Culture formatting needs ICU and SHA-256 needs OpenSSL, both in the image.
using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

public static class Probe
{
    public static int Main()
    {
        var german = new CultureInfo("de-DE");
        var digest = SHA256.Create().ComputeHash(Encoding.UTF8.GetBytes("the0"));
        Console.WriteLine("probe ok: .NET " + Environment.Version + " " + 1234.5.ToString("N2", german) +
                          " sha256 " + BitConverter.ToString(digest, 0, 4).Replace("-", "").ToLowerInvariant());
        return 0;
    }
}
