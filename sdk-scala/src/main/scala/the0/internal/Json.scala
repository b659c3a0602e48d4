package the0.internal

/** The JSON text this skin exchanges with the core, and nothing more: string literals for the
  * environment snapshots and `Input.result(status, message)`, and reading the two shapes the core
  * hands back as text — an object of strings (parameters) and an array of strings (keys, names).
  * Every other JSON document passes through as text; the core validates and canonicalizes it.
  * (Scala has no standard JSON library, and the SDK adds none to a bot's classpath.)
  */
private[the0] object Json:

  /** `s` as a JSON string literal. */
  def quote(s: String): String =
    val out = new java.lang.StringBuilder(s.length + 2)
    appendQuoted(out, s)
    out.toString

  /** Appends `s` as a JSON string literal: `"` and `\` escaped, control characters as `\u00XX`. */
  def appendQuoted(out: java.lang.StringBuilder, s: String): Unit =
    out.append('"')
    var i = 0
    while i < s.length do
      val c = s.charAt(i)
      if c == '"' || c == '\\' then out.append('\\').append(c)
      else if c < 0x20 then out.append("\\u00").append(Hex(c >> 4)).append(Hex(c & 0xf))
      else out.append(c)
      i += 1
    out.append('"')

  private val Hex = "0123456789abcdef"

  /** An object whose values are all strings, in document order. */
  def stringObject(text: String): Map[String, String] =
    val reader = Reader(text)
    val pairs = Vector.newBuilder[(String, String)]
    reader.expect('{')
    if !reader.skip('}') then
      while
        val key = reader.string()
        reader.expect(':')
        pairs += key -> reader.string()
        reader.skip(',')
      do ()
      reader.expect('}')
    reader.end()
    pairs.result().toMap

  /** An array of strings. */
  def stringArray(text: String): Vector[String] =
    val reader = Reader(text)
    val items = Vector.newBuilder[String]
    reader.expect('[')
    if !reader.skip(']') then
      while
        items += reader.string()
        reader.skip(',')
      do ()
      reader.expect(']')
    reader.end()
    items.result()

  /** A cursor over JSON text; fails with [[IllegalStateException]]: the core handed back text
    * of another shape, which is a bug, not a user error.
    */
  private final class Reader(text: String):
    private var at = 0

    private def blank(): Unit =
      while at < text.length && " \t\r\n".indexOf(text.charAt(at)) >= 0 do at += 1

    private def fail(what: String): Nothing =
      throw IllegalStateException(s"the0 core answered unexpected JSON ($what at offset $at): $text")

    /** Consumes `c` (after blanks) when it comes next. */
    def skip(c: Char): Boolean =
      blank()
      val found = at < text.length && text.charAt(at) == c
      if found then at += 1
      found

    def expect(c: Char): Unit = if !skip(c) then fail(s"expected '$c'")

    def end(): Unit =
      blank()
      if at != text.length then fail("trailing text")

    def string(): String =
      expect('"')
      val out = new java.lang.StringBuilder
      while
        if at >= text.length then fail("unterminated string")
        val c = text.charAt(at)
        at += 1
        c match
          case '"' => false
          case '\\' =>
            out.append(escape())
            true
          case _ =>
            out.append(c)
            true
      do ()
      out.toString

    private def escape(): Char =
      if at >= text.length then fail("unterminated escape")
      val c = text.charAt(at)
      at += 1
      c match
        case '"' | '\\' | '/' => c
        case 'b' => '\b'
        case 'f' => '\f'
        case 'n' => '\n'
        case 'r' => '\r'
        case 't' => '\t'
        case 'u' =>
          if at + 4 > text.length then fail("short \\u escape")
          val code =
            try Integer.parseInt(text.substring(at, at + 4), 16)
            catch case _: NumberFormatException => fail("bad \\u escape")
          at += 4
          code.toChar
        case _ => fail(s"unknown escape \\$c")
