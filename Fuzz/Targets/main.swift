import CLibFuzzer
import Foundation

// `catroom-fuzz TARGET [libFuzzer flags] [corpus dirs]`: runs one target under libFuzzer.
// `catroom-fuzz TARGET --write-seeds DIR` writes the seeds it generates (keys, sealed messages).
// `catroom-fuzz --list` names the targets.
//
// SwiftPM links its own `main` into an executable, so libFuzzer's is never used: this
// one drops the target name and hands the rest of the arguments to LLVMFuzzerRunDriver.

var arguments = CommandLine.arguments
if arguments.count == 2, arguments[1] == "--list" {
    FuzzTarget.all.forEach { print($0.name) }
    exit(0)
}
guard arguments.count >= 2, let target = FuzzTarget.named(arguments[1]) else {
    print("usage: catroom-fuzz {\(FuzzTarget.all.map(\.name).joined(separator: "|"))} [libFuzzer arguments]")
    exit(2)
}
if arguments.count == 4, arguments[2] == "--write-seeds" {
    writeSeeds(target.seeds(), to: arguments[3])
    exit(0)
}
Selection.target = target
arguments.remove(at: 1)

var argc = Int32(arguments.count)
let cArguments = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: arguments.count + 1)
for (index, argument) in arguments.enumerated() { cArguments[index] = strdup(argument) }
cArguments[arguments.count] = nil
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = cArguments
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    runSelected(UnsafeRawBufferPointer(start: data, count: size))
    return 0
})
