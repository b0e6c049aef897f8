using System.CommandLine;
using Learngene;
using Learngene.Cli;

// Every verb is one file under Commands/; this file only wires them and turns errors into one line.
NativeAllocator.Tune(); // before the first tensor: training buffers stay in the heap (README, platform notes)
var root = new RootCommand("Learngene: build variable-sized vision transformers from condensed knowledge (learngenes).");
root.Subcommands.Add(QuickstartCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(LearnCommand.Create());
root.Subcommands.Add(ExpandCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(ImportCommand.Create());
root.Subcommands.Add(PoolCommand.Create());
root.Subcommands.Add(DiffusionCommand.Create());
root.Subcommands.Add(DataCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(ReportCommand.Create());

try
{
    return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e)
{
    return Errors.Report(e);
}
