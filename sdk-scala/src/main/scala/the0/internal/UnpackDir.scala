package the0.internal

import java.nio.file.{Files, Path}

import scala.util.Try

/** Where native libraries packed in jars (libthe0, and JNA's own libjnidispatch) are unpacked
  * before they are loaded: a writable directory whose file system allows executable mappings.
  *
  * In a bot container the temporary directory is a `noexec` tmpfs (Docker's default), where the
  * dynamic loader refuses to map a library; the bot's code directory, its working directory,
  * allows it. So: the system property `jna.tmpdir` when set (JNA's own setting), else the first of
  * `java.io.tmpdir` and the working directory that is writable and not mounted `noexec`
  * (`/proc/self/mountinfo`), which then becomes `jna.tmpdir` — before JNA first loads itself.
  */
private[the0] object UnpackDir:

  def choose(): Option[Path] =
    Option(System.getProperty("jna.tmpdir")).map(Path.of(_)).orElse {
      val found = Seq("java.io.tmpdir", "user.dir")
        .flatMap(name => Option(System.getProperty(name)))
        .map(Path.of(_))
        .find(dir => Files.isDirectory(dir) && Files.isWritable(dir) && !noexec(dir))
      found.foreach(dir => System.setProperty("jna.tmpdir", dir.toString))
      found
    }

  /** Whether `dir` lies on a file system mounted `noexec` (false when that cannot be told). */
  def noexec(dir: Path): Boolean =
    Try(noexec(dir.toRealPath(), Files.readAllLines(Path.of("/proc/self/mountinfo")).toArray(Array.empty[String]).toSeq))
      .getOrElse(false)

  /** Whether the mount of `real` (a real path) in `mountinfo` (its lines) has the option `noexec`. */
  def noexec(real: Path, mountinfo: Seq[String]): Boolean =
    val mounts = mountinfo.flatMap { line =>
      line.split(" ") match
        case fields if fields.length > 5 => Some(Path.of(unescape(fields(4))) -> fields(5).split(",").toSet)
        case _ => None
    }
    mounts.filter((point, _) => real.startsWith(point)).maxByOption(_._1.getNameCount).exists(_._2("noexec"))

  /** Mount points in mountinfo escape spaces and the like as `\ooo` (octal). */
  private def unescape(field: String): String =
    """\\([0-7]{3})""".r.replaceAllIn(field, m =>
      scala.util.matching.Regex.quoteReplacement(Integer.parseInt(m.group(1), 8).toChar.toString))
