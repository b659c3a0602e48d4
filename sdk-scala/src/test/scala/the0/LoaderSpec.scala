package the0

import java.nio.file.{Files, StandardCopyOption}

import org.scalatest.funsuite.AnyFunSuite

import the0.TestSupport.*

/** Loading libthe0: the copy packed in the jar, a system copy named by `the0.library` /
  * `THE0_LIBRARY`, and the ABI version check.
  */
class LoaderSpec extends AnyFunSuite:

  test("the jar carries libthe0.so under JNA's linux-x86-64/ prefix, and the SDK loads it by default") {
    assert(getClass.getClassLoader.getResource("linux-x86-64/libthe0.so") != null)
    val state = tempDir("state")
    val out = runJvm("the0.bots.Probe", Seq("state-set", "k", "1"), env = Map("STATE_DIR" -> state.toString))
    assert(out == Outcome(0, "ok\n", ""), out)
  }

  /** The packed library, copied out as a "system copy" somewhere else. */
  private def systemCopy() =
    val copy = tempDir("lib").resolve("libthe0.so")
    val in = getClass.getClassLoader.getResourceAsStream("linux-x86-64/libthe0.so")
    try Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING)
    finally in.close()
    copy

  test("a system copy named by -Dthe0.library or THE0_LIBRARY is used instead") {
    val state = tempDir("state")
    val lib = systemCopy()
    val byProperty = runJvm("the0.bots.Probe", Seq("state-set", "a", "1"), env = Map("STATE_DIR" -> state.toString),
      props = Map("the0.library" -> lib.toString, "jna.debug_load" -> "true"))
    assert(byProperty.exitCode == 0, byProperty)
    assert(byProperty.stderr.contains(lib.toString), "JNA's load log names the system copy")
    val byEnv = runJvm("the0.bots.Probe", Seq("state-list"), env = Map("STATE_DIR" -> state.toString, "THE0_LIBRARY" -> lib.toString))
    assert(byEnv == Outcome(0, "a\n", ""), byEnv)
  }

  test("a library that cannot be loaded is a clear error, the same at every call") {
    val out = runJvm("the0.bots.Probe", Seq("state-list"), props = Map("the0.library" -> "/nonexistent/libthe0.so"))
    assert(out.exitCode == 3, out)
    val lines = out.stdout.linesIterator.toVector
    assert(lines(0).startsWith("failed: UnsatisfiedLinkError: cannot load libthe0 (/nonexistent/libthe0.so"), lines)
    assert(lines(1) == lines(0).replace("failed: UnsatisfiedLinkError:", "again:"), lines)
  }

  test("a library of another ABI version is refused when it loads") {
    val dir = tempDir("fake")
    val source = dir.resolve("fake.c")
    Files.writeString(source, "unsigned int the0_abi_version(void) { return 99; }\n")
    val fake = dir.resolve("libthe0.so")
    val cc = ProcessBuilder("cc", "-shared", "-fPIC", "-o", fake.toString, source.toString).inheritIO().start()
    assert(cc.waitFor() == 0, "cc could not build the fake library")
    val out = runJvm("the0.bots.Probe", Seq("state-list"), props = Map("the0.library" -> fake.toString))
    assert(out.exitCode == 3, out)
    assert(out.stdout.contains(s"$fake speaks the0 ABI 99, but this SDK was built for ABI 2"), out)
  }

  test("packed libraries are unpacked where they can be mapped: not on a noexec mount") {
    import java.nio.file.Path
    import the0.internal.UnpackDir
    val mountinfo = Seq(
      "22 1 0:21 / / rw,relatime - overlay overlay rw",
      "30 22 0:25 / /tmp rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw",
      "31 22 0:26 / /bot rw,nosuid,nodev,relatime - tmpfs tmpfs rw",
      "32 30 0:27 / /tmp/my\\040dir rw,relatime - tmpfs tmpfs rw"
    )
    assert(UnpackDir.noexec(Path.of("/tmp"), mountinfo))
    assert(UnpackDir.noexec(Path.of("/tmp/x/y"), mountinfo))
    assert(!UnpackDir.noexec(Path.of("/bot"), mountinfo))
    assert(!UnpackDir.noexec(Path.of("/tmpfoo"), mountinfo), "a path component, not a string prefix")
    assert(!UnpackDir.noexec(Path.of("/tmp/my dir/lib"), mountinfo), "the deepest mount decides")
    assert(!UnpackDir.noexec(Path.of("/opt"), mountinfo))
  }

  test("jna.tmpdir, when set, is where packed libraries are unpacked") {
    val unpack = tempDir("unpack")
    val out = runJvm("the0.bots.Probe", Seq("state-list"), env = Map("STATE_DIR" -> tempDir("state").toString),
      props = Map("jna.tmpdir" -> unpack.toString, "jna.debug_load" -> "true"))
    assert(out.exitCode == 0, out)
    assert(out.stderr.contains(unpack.toString), "JNA unpacked its own library there")
  }
