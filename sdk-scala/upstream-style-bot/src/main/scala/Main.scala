// A bot written the way upstream's Scala SDK README, docs and tests use its API (package `the0`,
// Scala 3, JSON as text), compiled unchanged against this SDK by scripts/check-install.sh.
// Nothing here is specific to this SDK.
import the0.{Input, Query, ReadOnlyStateError, State}
import the0.Input.LogLevel

import scala.util.{Failure, Success, Try}

object Main extends App {
  val queryMode = Query.isQueryMode

  if (queryMode) {
    Query.handler("/portfolio") { req =>
      val positions = State.getOrElse("positions", "[]")
      val symbol = req.get("symbol").getOrElse("BTC/USD")
      val limit = req.getOrElse("limit", "10")
      val verbose = req.has("verbose")
      s"""{"positions": $positions, "symbol": "$symbol", "limit": $limit, "verbose": $verbose}"""
    }

    Query.handler("/status") { req =>
      val params: Map[String, String] = Query.getParams
      val config: String = Query.getConfig
      val writable =
        try { State.set("probe", "1"); true }
        catch { case _: ReadOnlyStateError => false }
      s"""{"query_mode": ${Query.isQueryMode}, "params": ${params.size}, "config": $config, "writable": $writable}"""
    }

    val handler: Query.Handler = (req: Query.Request) => s"""{"path": "${req.path}"}"""
    Query.handler("/path")(handler)

    Query.run()
  } else {
    Try {
      val (botId, config) = Input.parse()
      if (botId.isEmpty) {
        throw new IllegalArgumentException("Bot ID is required")
      }
      System.err.println(s"Bot $botId starting with $config")

      State.set("portfolio", """{"AAPL": 100, "GOOGL": 50}""")
      State.set("trade_count", "42")
      State.set("positions", """[{"symbol": "BTC/USD", "qty": 1.5}]""")
      val portfolio: Option[String] = State.get("portfolio")
      portfolio match {
        case Some(json) => System.err.println(s"Portfolio: $json")
        case None => System.err.println("No portfolio found")
      }
      val keys: Seq[String] = State.list()
      System.err.println(s"State contains ${keys.length} keys: ${keys.mkString(", ")}")
      if (State.exists("trade_count") && State.delete("trade_count")) {
        System.err.println("Cleaned up old data")
      }
      try State.set("../escape", "1")
      catch { case e: IllegalArgumentException => System.err.println(s"refused: ${e.getMessage}") }

      Input.metric("price", """{"symbol": "BTC/USD", "value": 45000.5}""")
      Input.log("Starting trade execution")
      Input.log("Connection lost", level = LogLevel.Warn)
      Input.log("Order placed", data = """{"order_id": "12345", "symbol": "BTC/USD"}""")
      Input.log("Order failed", """{"order_id": "12345"}""", LogLevel.Error)

      val request = Query.Request("/portfolio", Map("symbol" -> "ETH"))
      assert(request.get("symbol").contains("ETH") && !request.has("limit"))
      val error = new Query.ReadOnlyStateError("Test message")
      assert(error.getMessage == "Test message" && error.isInstanceOf[RuntimeException])

      Input.result("warning", "Rate limit approaching")
      Input.resultRaw("""{"status": "success", "trade_id": "abc123", "price": 45000.50}""")
      s"${keys.length} keys"
    } match {
      case Success(summary) => Input.success(s"Bot executed successfully: $summary")
      case Failure(e) => Input.error(e.getMessage)
    }
  }
}
