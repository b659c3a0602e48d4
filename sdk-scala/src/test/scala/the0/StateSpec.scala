package the0

import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path}

import org.scalatest.funsuite.AnyFunSuite

import the0.TestSupport.*

class StateSpec extends AnyFunSuite:

  /** Runs `body` with a fresh STATE_DIR (as a system property) and no query mode. */
  private def withState[T](body: Path => T): T =
    val dir = tempDir("state")
    withProps("STATE_DIR" := dir.toString, unset("QUERY_PATH"))(body(dir))

  test("set stores the canonical form of the JSON text, which get returns and the file holds") {
    withState { dir =>
      State.set("portfolio", """{ "b" : 1, "a": [1, 2.50, true, null], "s": "x" }""")
      val canonical = """{"b":1,"a":[1,2.5,true,null],"s":"x"}"""
      assert(State.get("portfolio").contains(canonical))
      assert(read(dir.resolve("portfolio.json")) == canonical)
      assert(State.getOrElse("portfolio", "{}") == canonical)
    }
  }

  test("big integers and long decimals are stored as written") {
    withState { _ =>
      State.set("big", "123456789012345678901234567890")
      State.set("precise", "[0.1000000000000000055511151231257827, -1e-7]")
      assert(State.get("big").contains("123456789012345678901234567890"))
      assert(State.get("precise").contains("[0.1000000000000000055511151231257827,-1e-7]"))
    }
  }

  test("unicode keys and values round-trip as UTF-8") {
    withState { dir =>
      State.set("prix_€", "\"café ☕ 😀 \\u0001\"")
      assert(State.get("prix_€").contains("\"café ☕ 😀 \\u0001\""))
      assert(new String(Files.readAllBytes(dir.resolve("prix_€.json")), UTF_8) == "\"café ☕ 😀 \\u0001\"")
      assert(State.list() == Seq("prix_€"))
    }
  }

  test("a missing key is absent, not an error") {
    withState { _ =>
      assert(State.get("nothing").isEmpty)
      assert(State.getOrElse("nothing", "[]") == "[]")
      assert(!State.exists("nothing"))
      assert(!State.delete("nothing"))
    }
  }

  test("every key rule is the core's: InvalidKeyError, an IllegalArgumentException, with its message") {
    withState { dir =>
      val bad = Seq("", "a/b", "a\\b", "..", "a..b", ".hidden", "tab\there", "x" * 201)
      for key <- bad do
        val e = intercept[InvalidKeyError](State.set(key, "1"))
        assert(e.isInstanceOf[IllegalArgumentException])
        assert(e.status == "INVALID_KEY")
        assert(e.getMessage.startsWith("invalid state key"), e.getMessage)
        intercept[InvalidKeyError](State.get(key))
        intercept[InvalidKeyError](State.exists(key))
        intercept[InvalidKeyError](State.delete(key))
      assert(State.list().isEmpty)
      assert(Files.list(dir).count() == 0)
      State.set("x" * 200, "1") // the longest key allowed
    }
  }

  test("a key with a NUL character is refused before it reaches C") {
    withState { _ =>
      val e = intercept[InvalidArgumentError](State.set("a\u0000b", "1"))
      assert(e.status == "INVALID_ARGUMENT")
      assert(e.getMessage.contains("NUL"))
    }
  }

  test("text that is not JSON is refused and nothing is written") {
    withState { _ =>
      State.set("k", "1")
      val e = intercept[InvalidJsonError](State.set("k", "{not json"))
      assert(e.isInstanceOf[IllegalArgumentException])
      assert(e.status == "INVALID_JSON")
      assert(e.getMessage.contains("\"k\""), e.getMessage)
      assert(State.get("k").contains("1"))
    }
  }

  test("a corrupt file is an error that names the key") {
    withState { dir =>
      Files.writeString(dir.resolve("broken.json"), "{\"half\":")
      val e = intercept[CorruptStateError](State.get("broken"))
      assert(e.status == "CORRUPT_STATE")
      assert(e.getMessage.contains("broken"), e.getMessage)
    }
  }

  test("list is sorted, skips the core's hidden temporary files, and is empty before the first set") {
    withState { dir =>
      Files.delete(dir)
      assert(State.list().isEmpty)
      for key <- Seq("b", "a", "c") do State.set(key, "true")
      Files.writeString(dir.resolve(".a.json.tmp"), "x")
      Files.writeString(dir.resolve("notes.txt"), "x")
      assert(State.list() == Seq("a", "b", "c"))
      assert(State.exists("b"))
      assert(State.delete("b"))
      assert(!State.exists("b"))
      assert(State.list() == Seq("a", "c"))
      State.clear()
      assert(State.list().isEmpty)
    }
  }

  test("writes while serving queries raise ReadOnlyStateError (also Query.ReadOnlyStateError); reads work") {
    withState { _ =>
      State.set("position", "{\"qty\":1}")
      withProps("QUERY_PATH" := "/status") {
        for write <- Seq(() => State.set("position", "2"), () => State.delete("position"), () => State.clear()) do
          val e = intercept[Query.ReadOnlyStateError](write())
          assert(e.isInstanceOf[ReadOnlyStateError] && e.isInstanceOf[RuntimeException])
          assert(e.status == "READ_ONLY")
          assert(e.getMessage.nonEmpty)
        assert(State.get("position").contains("{\"qty\":1}"))
        assert(State.list() == Seq("position"))
      }
      State.set("position", "2") // QUERY_PATH cleared: writable again
      assert(State.get("position").contains("2"))
    }
  }

  test("state is shared across threads") {
    withState { _ =>
      val threads = (1 to 8).map(n => Thread(() => State.set(s"t$n", n.toString)))
      threads.foreach(_.start())
      threads.foreach(_.join())
      assert(State.list() == (1 to 8).map(n => s"t$n").sorted)
    }
  }
