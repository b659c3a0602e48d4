package the0

import java.io.ByteArrayOutputStream
import java.net.{InetSocketAddress, StandardProtocolFamily, UnixDomainSocketAddress}
import java.nio.ByteBuffer
import java.nio.channels.SocketChannel
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.Path

/** A minimal HTTP/1.1 client over TCP on 127.0.0.1 or a Unix socket: one request per connection. */
object Http:

  final case class Response(status: Int, contentType: Option[String], body: String)

  sealed trait Target
  final case class Loopback(port: Int) extends Target
  final case class Unix(socket: Path) extends Target

  /** Parses where the core's start line says the server listens: `127.0.0.1:<port>` or `unix:<path>`. */
  def target(startLine: String): Target =
    val at = startLine.indexOf("Query server started on ")
    require(at >= 0, startLine)
    val address = startLine.substring(at + "Query server started on ".length).takeWhile(_ != '"')
    if address.startsWith("unix:") then Unix(Path.of(address.stripPrefix("unix:")))
    else Loopback(address.substring(address.lastIndexOf(':') + 1).toInt)

  def get(target: Target, path: String): Response = request(target, "GET", path, None)

  def post(target: Target, path: String, json: String): Response = request(target, "POST", path, Some(json))

  def request(target: Target, method: String, path: String, body: Option[String]): Response =
    val channel = target match
      case Loopback(port) => SocketChannel.open(InetSocketAddress("127.0.0.1", port))
      case Unix(socket) =>
        val c = SocketChannel.open(StandardProtocolFamily.UNIX)
        c.connect(UnixDomainSocketAddress.of(socket))
        c
    try
      val payload = body.map(_.getBytes(UTF_8)).getOrElse(Array.emptyByteArray)
      val head = s"$method $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" +
        body.fold("")(_ => s"Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n") + "\r\n"
      channel.write(ByteBuffer.wrap(head.getBytes(UTF_8) ++ payload))
      val received = ByteArrayOutputStream()
      val buffer = ByteBuffer.allocate(8192)
      while channel.read(buffer) >= 0 do
        received.write(buffer.array, 0, buffer.position)
        buffer.clear()
      parse(received.toByteArray)
    finally channel.close()

  private def parse(bytes: Array[Byte]): Response =
    val text = String(bytes, UTF_8)
    val split = text.indexOf("\r\n\r\n")
    val headLines = text.substring(0, split).split("\r\n").toVector
    val headers = headLines.tail.map { line =>
      val colon = line.indexOf(':')
      line.substring(0, colon).trim.toLowerCase -> line.substring(colon + 1).trim
    }.toMap
    require(!headers.get("transfer-encoding").contains("chunked"), "a chunked answer: the core sends Content-Length")
    Response(headLines.head.split(" ")(1).toInt, headers.get("content-type"), text.substring(split + 4))
