using System;

namespace The0
{
    /// <summary>
    /// What every exception of the SDK carries besides its message: the core's status name
    /// (<c>"INVALID_KEY"</c>, <c>"READ_ONLY"</c>, <c>"CORRUPT_STATE"</c>...). Status and message
    /// are the same in every the0 SDK for the same failure.
    /// </summary>
    public interface IThe0Error
    {
        /// <summary>The core's status name, such as <c>"INVALID_KEY"</c>.</summary>
        string Status { get; }
    }

    /// <summary>A failure reported by the the0 core: an unreadable state file (CORRUPT_STATE),
    /// a value that is not JSON (INVALID_JSON), a file-system error (IO)...</summary>
    public class The0Exception : Exception, IThe0Error
    {
        public The0Exception(string status, string message) : base(message)
        {
            Status = status;
        }

        public string Status { get; }
    }

    /// <summary>A bad argument: a state key that breaks a key rule (INVALID_KEY), or text the
    /// core refuses (INVALID_ARGUMENT). An <see cref="ArgumentException"/>, as upstream throws for
    /// bad keys.</summary>
    public class The0ArgumentException : ArgumentException, IThe0Error
    {
        public The0ArgumentException(string status, string message) : base(message)
        {
            Status = status;
        }

        public string Status { get; }
    }

    /// <summary>A state write (Set, Delete, Clear) while this process serves queries: queries are
    /// read-only in every mode.</summary>
    public class ReadOnlyStateError : InvalidOperationException, IThe0Error
    {
        public ReadOnlyStateError(string message) : base(message)
        {
        }

        /// <summary>Always <c>"READ_ONLY"</c>.</summary>
        public string Status
        {
            get { return "READ_ONLY"; }
        }
    }

    /// <summary><see cref="Input.Parse"/> without BOT_ID or BOT_CONFIG (MISSING_ENV), or with a
    /// BOT_CONFIG that is not JSON (INVALID_JSON). An <see cref="InvalidOperationException"/>, as
    /// upstream throws.</summary>
    public class The0ConfigurationException : InvalidOperationException, IThe0Error
    {
        public The0ConfigurationException(string status, string message) : base(message)
        {
            Status = status;
        }

        public string Status { get; }
    }
}
