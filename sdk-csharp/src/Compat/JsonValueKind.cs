// Mono build only (left out of the net8.0 build, where the framework has these types).
namespace System.Text.Json
{
    /// <summary>The kind of a JSON value, as System.Text.Json names it.</summary>
    public enum JsonValueKind : byte
    {
        Undefined = 0,
        Object = 1,
        Array = 2,
        String = 3,
        Number = 4,
        True = 5,
        False = 6,
        Null = 7,
    }

    /// <summary>
    /// Thrown for text that is not JSON, or JSON that does not fit the requested type — the
    /// exception System.Text.Json throws for both.
    /// </summary>
    public class JsonException : Exception
    {
        public JsonException() : base("The JSON value could not be converted.") { }

        public JsonException(string message) : base(message) { }

        public JsonException(string message, Exception innerException) : base(message, innerException) { }
    }
}
