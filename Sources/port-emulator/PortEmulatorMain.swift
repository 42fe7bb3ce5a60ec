import ArgumentParser
import ConsumerCLI
import EmulatorCLI

/// One binary for both commands: the release archives install it as `port-emulator` and as
/// `port-consumer` (a link), and it runs the command it is called by.
@main
enum PortEmulatorMain {
    static func main() async {
        if calledName(CommandLine.arguments.first).hasPrefix("port-consumer") {
            await PortConsumerCommand.main()
        } else {
            await PortEmulatorCommand.main()
        }
    }
}
