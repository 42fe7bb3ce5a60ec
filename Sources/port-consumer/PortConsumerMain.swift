import ArgumentParser
import ConsumerCLI

/// `port-consumer` alone, for Swift users who build only the consumer.
@main
enum PortConsumerMain {
    static func main() async { await PortConsumerCommand.main() }
}
