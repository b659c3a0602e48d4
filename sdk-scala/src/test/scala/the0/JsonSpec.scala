package the0

import org.scalatest.funsuite.AnyFunSuite

import the0.internal.Json

class JsonSpec extends AnyFunSuite:

  test("quote escapes quotes, backslashes and control characters, and keeps other text") {
    assert(Json.quote("a\"b\\c") == "\"a\\\"b\\\\c\"")
    assert(Json.quote("\n\t\u0000\u001f") == "\"\\u000a\\u0009\\u0000\\u001f\"")
    assert(Json.quote("café ☕ 😀 /") == "\"café ☕ 😀 /\"")
  }

  test("an object of strings, with escapes and surrogate pairs, in document order") {
    val parsed = Json.stringObject("""{"b":"x\"y","a":"\u00e9\ud83d\ude00","c":"\\\/\n\t\b\f\r", "d" : "" }""")
    assert(parsed.toSeq == Seq("b" -> "x\"y", "a" -> "é😀", "c" -> "\\/\n\t\b\f\r", "d" -> ""))
    assert(Json.stringObject(" { } ").isEmpty)
  }

  test("an array of strings") {
    assert(Json.stringArray("""["prix_€","a\"b"]""") == Vector("prix_€", "a\"b"))
    assert(Json.stringArray("[]").isEmpty)
  }

  test("text of another shape is a bug of the core, reported with the text") {
    for bad <- Seq("""{"a":1}""", """["a",]x""", """["a" "b"]""", """{"a":"b"""", """["\u12"]""", """["\q"]""", "") do
      val e = intercept[IllegalStateException](if bad.startsWith("{") then Json.stringObject(bad) else Json.stringArray(bad))
      assert(e.getMessage.contains("unexpected JSON"), bad)
  }
