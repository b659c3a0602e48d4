package the0.internal

import java.io.PrintStream
import java.nio.charset.StandardCharsets.UTF_8

/** Writes the lines the core formats through the JVM's own streams (ARCHITECTURE.md, "What a
  * host must do", 3): metric lines on `System.out`, everything else on `System.err`, each
  * followed by a newline. The bytes are UTF-8 whatever the JVM's default charset (a JVM started
  * without a UTF-8 locale would print `?` for non-ASCII text), and each line is flushed.
  */
private[the0] object Streams:

  def out(lines: String): Unit = write(System.out, lines)

  def err(lines: String): Unit = write(System.err, lines)

  private def write(stream: PrintStream, lines: String): Unit =
    if lines != null then
      val bytes = (lines + "\n").getBytes(UTF_8)
      stream.synchronized {
        stream.write(bytes, 0, bytes.length)
        stream.flush()
      }
