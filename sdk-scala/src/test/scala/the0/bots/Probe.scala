package the0.bots

import the0.{Input, State, The0Error}

/** A child-JVM probe for the suites: one SDK call per command, its outcome on stdout.
  *
  *   state-set KEY JSON | state-list | parse | error MESSAGE
  *
  * An SDK failure prints `failed: <class> <status>: <message>` and exits with code 3.
  */
object Probe:
  def main(args: Array[String]): Unit =
    try
      args.toList match
        case List("state-set", key, json) =>
          State.set(key, json)
          println("ok")
        case List("state-list") => println(State.list().mkString(","))
        case List("parse") =>
          val (botId, config) = Input.parse()
          println(s"$botId $config")
        case List("error", message) => Input.error(message)
        case other => sys.error(s"unknown probe command $other")
    catch
      case e: The0Error =>
        println(s"failed: ${e.getClass.getSimpleName} ${e.status}: ${e.asInstanceOf[Throwable].getMessage}")
        sys.exit(3)
      case e: UnsatisfiedLinkError =>
        println(s"failed: UnsatisfiedLinkError: ${e.getMessage}")
        // A second call fails the same way: the load is not retried into a confusing state.
        try State.list()
        catch case again: UnsatisfiedLinkError => println(s"again: ${again.getMessage}")
        sys.exit(3)
