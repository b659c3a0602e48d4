package the0.internal

/** The JVM's view of the environment, handed to the core at every call that reads a variable
  * (ARCHITECTURE.md, "What a host must do", 2).
  *
  * A JVM cannot change its own environment, so a system property of the same name overrides a
  * variable: `-DSTATE_DIR=/tmp/state` or `System.setProperty("BOT_ID", "bot-1")`. A property
  * that is cleared again (`System.clearProperty`) lets the variable show through. Values are read
  * at every call, never cached.
  */
private[the0] object HostEnv:

  /** The groups of names the core's calls read (`THE0_ENV_*`). */
  enum Scope(val code: Int):
    case State extends Scope(1)
    case Input extends Scope(2)
    case Query extends Scope(3)

  /** The names of each scope, asked of the core once. */
  private lazy val names: Map[Scope, Vector[String]] =
    Core.ensureLoaded()
    Scope.values.toVector.map { scope =>
      val out = new Array[Long](1)
      Core.check(Libthe0.the0_env_names(scope.code, out))
      scope -> Json.stringArray(Core.take(out(0)))
    }.toMap

  /** The value the JVM sees for `name`: its system property when set, else its variable. */
  def lookup(name: String): Option[String] =
    Option(System.getProperty(name)).orElse(Option(System.getenv(name)))

  /** The `env_json` argument for a call of `scope`: `{"NAME": "value" or null, ...}`, as a C string. */
  def snapshot(scope: Scope): Array[Byte] =
    val json = new java.lang.StringBuilder(128).append('{')
    var first = true
    for name <- names(scope) do
      if !first then json.append(',')
      first = false
      Json.appendQuoted(json, name)
      json.append(':')
      lookup(name) match
        case Some(value) => Json.appendQuoted(json, value)
        case None => json.append("null")
    Core.cText(json.append('}').toString, "the environment")
