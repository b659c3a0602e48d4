package the0.bots

import the0.{Query, State, The0Error}

/** A query entrypoint for the suites' child JVMs. It prints `after run` when `Query.run()`
  * returns and `hook ran` from a shutdown hook, so a suite sees that the JVM ended normally.
  *
  *   /echo   {"path":..,"params":<typed>,"strings":<string form>}
  *   /fail   throws "deliberate failure"
  *   /hang   never answers
  *   /write  tries State.set("k", "1"): {"written":true} or the error's status
  */
object QueryBot:
  def main(args: Array[String]): Unit =
    Runtime.getRuntime.addShutdownHook(Thread(() => println("hook ran")))
    Query.handler("/echo") { req =>
      val strings = req.params.toSeq.sortBy(_._1).map((k, v) => s"\"$k\":\"$v\"").mkString("{", ",", "}")
      s"""{"path":"${req.path}","params":${req.paramsJson},"strings":$strings}"""
    }
    Query.handler("/fail") { _ => throw IllegalStateException("deliberate failure") }
    Query.handler("hang") { _ =>
      Thread.sleep(Long.MaxValue)
      "null"
    }
    Query.handler("/write") { _ =>
      try
        State.set("k", "1")
        """{"written":true}"""
      catch case e: The0Error => s"""{"written":false,"status":"${e.status}"}"""
    }
    Query.run()
    println("after run")
