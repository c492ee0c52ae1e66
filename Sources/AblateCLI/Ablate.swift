import ArgumentParser
import Trainer

@main
struct Ablate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ablate",
        abstract: "How much do trained input embeddings matter, and how does that change with model size?",
        version: AblateVersion.string,
        subcommands: [
            TrainCommand.self,
            EvalCommand.self,
            GridCommand.self,
            ReportCommand.self,
            ProbeCommand.self,
            StrategiesCommand.self,
            CoordCheckCommand.self,
            BenchCommand.self,
            DataCommand.self,
            TokenizerCommand.self,
            DoctorCommand.self,
        ]
    )
}
