// The scala3 probe: a jar run by the image's JRE, as `java -cp probe.jar Probe` (entrypoint
// `probe.jar:Probe`) — how the agent runs Scala bots.
public final class Probe {
    public static void main(String[] args) {
        System.out.println("probe ok: java " + Runtime.version().feature() + " " + java.time.ZoneId.of("Europe/London").getId());
    }
}
