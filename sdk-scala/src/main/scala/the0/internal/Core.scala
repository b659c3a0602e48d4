package the0.internal

import java.nio.file.{Files, Path, StandardCopyOption}
import java.nio.charset.StandardCharsets.UTF_8

import com.sun.jna.{Native, NativeLibrary, Pointer}

import the0.*

/** The loaded libthe0 and the conversions every call needs: text to C strings, C strings back
  * (freed), and statuses to the language's exceptions.
  *
  * Loading, at the first call: the library named by the system property `the0.library` (or the
  * environment variable `THE0_LIBRARY`), a path to a system copy; else the copy packed in the jar
  * under `linux-x86-64/`; else JNA's search for `the0` (`jna.library.path`, the system's
  * library path). Libraries packed in jars are unpacked where they can be mapped: [[UnpackDir]].
  * Its ABI version must be [[AbiVersion]], or every call fails with an
  * [[UnsatisfiedLinkError]] that says which library answered what.
  */
private[the0] object Core:

  /** The `THE0_ABI_VERSION` of the header this binding was written for. */
  val AbiVersion = 2

  // Status codes (THE0_STATUS_*): part of the ABI, never renumbered.
  val Ok = 0
  val NotFound = 1
  val InvalidKey = 2
  val InvalidJson = 3
  val ReadOnly = 4
  val Io = 5
  val Timeout = 6
  val Done = 7
  val InvalidArgument = 8
  val CorruptState = 10
  val MissingEnv = 11
  val UnknownRequest = 12

  /** Why the library could not be used, or null once it is loaded. */
  @volatile private var failure: String = null
  @volatile private var loaded = false

  /** Loads and checks the library once; throws the load failure on every call after a failed load. */
  def ensureLoaded(): Unit =
    if !loaded then
      synchronized {
        if !loaded && failure == null then
          try load()
          catch case e: (LinkageError | Exception) => failure = Option(e.getMessage).getOrElse(e.toString)
      }
      if failure != null then throw UnsatisfiedLinkError(failure)

  private def load(): Unit =
    val unpackDir = UnpackDir.choose() // before JNA unpacks its own library
    val override_ = Option(System.getProperty("the0.library")).orElse(Option(System.getenv("THE0_LIBRARY")))
    val library = override_ match
      case Some(path) => open(path, s"$path (from the0.library / THE0_LIBRARY)")
      case None => packed(unpackDir).getOrElse(open("the0", "the0 on the system library path"))
    val version = library.getFunction("the0_abi_version").invokeInt(Array.empty[AnyRef])
    if version != AbiVersion then
      throw UnsatisfiedLinkError(
        s"${library.getFile} speaks the0 ABI $version, but this SDK was built for ABI $AbiVersion: " +
          "use the libthe0 of the same release"
      )
    Native.register(classOf[Libthe0], library)
    loaded = true

  private def open(name: String, what: String): NativeLibrary =
    try NativeLibrary.getInstance(name)
    catch
      case e: UnsatisfiedLinkError =>
        // JNA's message goes on to list every place it searched (the whole classpath): its first line says why.
        throw UnsatisfiedLinkError(s"cannot load libthe0 ($what): ${e.getMessage.linesIterator.nextOption.getOrElse("")}")

  /** The copy packed in the jar: used in place when the classpath is a directory, else copied to a
    * temporary file in `unpackDir` (see [[UnpackDir]]) that is removed as soon as it is mapped.
    */
  private def packed(unpackDir: Option[Path]): Option[NativeLibrary] =
    Option(classOf[Libthe0].getClassLoader.getResource(PackedPath)).map { url =>
      if url.getProtocol == "file" then open(Path.of(url.toURI).toString, s"the copy packed with the SDK, $url")
      else
        val copy = unpackDir.fold(Files.createTempFile("libthe0-", ".so"))(Files.createTempFile(_, "libthe0-", ".so"))
        try
          val in = url.openStream()
          try Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING)
          finally in.close()
          open(copy.toString, s"the copy packed in the SDK jar, $url")
        finally Files.delete(copy)
    }

  /** Where the jar carries the library: JNA's resource prefix for Linux on x86-64. */
  private val PackedPath = "linux-x86-64/libthe0.so"

  /** `s` as a NUL-terminated UTF-8 C string; null stays NULL. `what` names it if it holds a NUL
    * character, which C text cannot carry.
    */
  def cText(s: String, what: String): Array[Byte] =
    if s == null then null
    else
      if s.indexOf('\u0000') >= 0 then
        throw InvalidArgumentError(s"$what contains a NUL character, which the0's C ABI cannot carry")
      val bytes = s.getBytes(UTF_8)
      java.util.Arrays.copyOf(bytes, bytes.length + 1)

  /** Reads the C string at `address` (a `char *` the core allocated) and frees it; null for NULL. */
  def take(address: Long): String =
    if address == 0 then null
    else
      try Pointer(address).getString(0, "UTF-8")
      finally Libthe0.the0_bytes_free(address)

  /** Throws the exception for `status` unless it is OK. */
  def check(status: Int): Unit = if status != Ok then throw error(status)

  /** The exception for a failed call's `status`, with the message the core recorded for this thread. */
  def error(status: Int): RuntimeException =
    val out = new Array[Long](1)
    Libthe0.the0_last_error(out)
    val message = take(out(0))
    status match
      case ReadOnly => ReadOnlyStateError(message)
      case InvalidKey => InvalidKeyError(message)
      case InvalidJson => InvalidJsonError(message)
      case MissingEnv => MissingEnvError(message)
      case InvalidArgument => InvalidArgumentError(message)
      case CorruptState => CorruptStateError(message)
      case Io => StateIOError(message)
      case other =>
        val name = new Array[Long](1)
        val named = Libthe0.the0_status_name(other, name) == Ok
        The0Exception(if named then take(name(0)) else s"STATUS_$other", message)
