using System.CommandLine;
using Learngene;
using Learngene.Cli;

// Every verb is one file under Commands/; this file only wires them and turns errors into one line.
NativeAllocator.Tune(); // before the first tensor: training buffers stay in the heap (README, platform notes)
// Under mpirun or srun every rank runs this program; rank 0 speaks for the job (progress, tables, reports).
if (Learngene.Distributed.World.LaunchedRank() != 0) Console.SetOut(TextWriter.Null);
// Ctrl-C or SIGTERM asks a training loop to stop cleanly after its current step (resumable); a second one, or
// one outside training, stops at once (every file is written atomically, so nothing good is lost either way).
using var onInterrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Interrupt);
using var onTerminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Interrupt);
var root = CliRoot.Create();

try
{
    // Under a launcher, join MPI first: a failure before the first collective then still ends the whole job.
    if (Learngene.Distributed.World.LaunchedRanks() > 1) _ = Learngene.Distributed.World.Current;
    var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
    // A command line that does not parse: one line in words (no help dump), code 2 as for any bad input.
    if (CliRoot.ErrorLine(parse) is { } error) throw new LearngeneException(error);
    int code = parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    Learngene.Distributed.World.Finish();
    return code;
}
catch (Exception e)
{
    return Errors.Report(e);
}

static void Interrupt(System.Runtime.InteropServices.PosixSignalContext context)
{
    // Outside training, or the second signal: the default action, an immediate stop.
    if (!Learngene.Training.StopSignal.Training || Learngene.Training.StopSignal.Requested) return;
    context.Cancel = true;
    Learngene.Training.StopSignal.Request();
    Console.WriteLine("stopping after the current step (again to stop at once)…");
}
