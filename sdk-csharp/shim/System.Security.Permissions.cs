// A stand-in for the System.Security.Permissions compatibility assembly, for running the Mono
// build of the SDK on .NET 8 only (the net8.0 build does not use Newtonsoft.Json, nor this).
//
// Debian's Newtonsoft.Json 6.0.8 is a .NET Framework build: before it generates code it demands
// Code Access Security permissions. .NET 8 has no CAS; it forwards these types to the
// System.Security.Permissions package (a NuGet package, not reachable here), whose demands do
// nothing on .NET Core. This assembly declares the types Newtonsoft.Json touches, with the same
// do-nothing demands. The flag enums it does not declare live in .NET 8's own libraries.
using System;

[assembly: System.Reflection.AssemblyVersion("4.0.0.0")]

namespace System.Security
{
    /// <summary>The base of permissions; on .NET 8 every demand succeeds.</summary>
    public abstract class CodeAccessPermission
    {
        public void Demand()
        {
        }
    }
}

namespace System.Security.Permissions
{
    [Flags]
    public enum ReflectionPermissionFlag
    {
        NoFlags = 0,
        TypeInformation = 1,
        MemberAccess = 2,
        ReflectionEmit = 4,
        AllFlags = 7,
        RestrictedMemberAccess = 8,
    }

    public sealed class ReflectionPermission : CodeAccessPermission
    {
        public ReflectionPermission(ReflectionPermissionFlag flag)
        {
        }

        public ReflectionPermission(PermissionState state)
        {
        }
    }

    public sealed class SecurityPermission : CodeAccessPermission
    {
        public SecurityPermission(SecurityPermissionFlag flag)
        {
        }

        public SecurityPermission(PermissionState state)
        {
        }
    }
}
