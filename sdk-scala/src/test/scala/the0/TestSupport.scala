package the0

import java.io.{ByteArrayOutputStream, PrintStream}
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path}
import java.util.concurrent.TimeUnit

import scala.jdk.CollectionConverters.*

/** Helpers shared by the suites: scratch directories, system properties (the environment rule:
  * the suites set variables as properties), captured streams, and child JVMs for what only a
  * separate process shows (exit codes, environment variables, signals).
  */
object TestSupport:

  def tempDir(prefix: String): Path = Files.createTempDirectory(s"the0-scala-$prefix-")

  def read(path: Path): String = Files.readString(path, UTF_8)

  /** Runs `body` with the system properties `props` set (None: cleared), then restores them. */
  def withProps[T](props: (String, Option[String])*)(body: => T): T =
    val saved = props.map((name, _) => name -> Option(System.getProperty(name)))
    def put(name: String, value: Option[String]): Unit = value match
      case Some(v) => System.setProperty(name, v)
      case None => System.clearProperty(name)
    props.foreach(put)
    try body
    finally saved.foreach(put)

  /** `name -> value` as a property to set. */
  extension (name: String) def :=(value: String): (String, Option[String]) = name -> Some(value)

  /** A property to clear for the duration. */
  def unset(name: String): (String, Option[String]) = name -> None

  /** Runs `body` with `System.out` (or `System.err`) captured; returns its result and the bytes. */
  def captureOut[T](body: => T): (T, Array[Byte]) = capture(System.out, System.setOut)(body)

  def captureErr[T](body: => T): (T, Array[Byte]) = capture(System.err, System.setErr)(body)

  private def capture[T](original: PrintStream, set: PrintStream => Unit)(body: => T): (T, Array[Byte]) =
    val buffer = ByteArrayOutputStream()
    set(PrintStream(buffer, true, "ISO-8859-1")) // a non-UTF-8 stream: the SDK must still write UTF-8
    try
      val result = body
      (result, buffer.toByteArray)
    finally set(original)

  def lines(bytes: Array[Byte]): Vector[String] =
    String(bytes, UTF_8).split("\n").toVector.filter(_.nonEmpty)

  /** The outcome of a child JVM. */
  final case class Outcome(exitCode: Int, stdout: String, stderr: String)

  /** A child JVM running `mainClass` of the test classpath with `args`, its environment reduced to
    * PATH and HOME plus `env`, and `-D` properties `props`.
    */
  def childJvm(mainClass: String, args: Seq[String] = Nil, env: Map[String, String] = Map.empty,
               props: Map[String, String] = Map.empty): ProcessBuilder =
    val java = Option(System.getProperty("the0.test.java")).getOrElse("java")
    val command = Seq(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path")) ++
      props.map((k, v) => s"-D$k=$v") ++ Seq(mainClass) ++ args
    val builder = ProcessBuilder(command.asJava)
    val environment = builder.environment()
    environment.keySet.removeIf(name => !Set("PATH", "HOME", "LANG").contains(name))
    env.foreach((k, v) => environment.put(k, v))
    builder

  /** Runs a child JVM to the end (at most two minutes: a hung child fails the test). */
  def runJvm(mainClass: String, args: Seq[String] = Nil, env: Map[String, String] = Map.empty,
             props: Map[String, String] = Map.empty): Outcome =
    val dir = tempDir("child")
    val (out, err) = (dir.resolve("stdout"), dir.resolve("stderr"))
    val process = childJvm(mainClass, args, env, props).redirectOutput(out.toFile).redirectError(err.toFile).start()
    if !process.waitFor(2, TimeUnit.MINUTES) then
      process.destroyForcibly()
      throw AssertionError(s"$mainClass did not end: ${read(err)}")
    Outcome(process.exitValue, read(out), read(err))

  /** RFC 3339 UTC with milliseconds, the core's one timestamp format. */
  val Timestamp = """\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z""".r
