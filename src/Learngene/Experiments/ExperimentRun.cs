using Learngene.Data;
using Learngene.Experiments.Planning;
using Learngene.Reporting;

namespace Learngene.Experiments;

/// <summary>An experiment as a user asked for it (a preset and settings; <see cref="IExperiment.Configure"/>):
/// the line that says what will run, notes on choices made for the user, its plan for a dry run, and how it
/// runs into a folder and reports.</summary>
public sealed class ExperimentRun(string preset, string title, IReadOnlyList<string> notes, Func<IReadOnlyList<PlannedCell>> plan,
    Func<string, DataCache, Action<string>, RunOutcome> execute)
{
    /// <summary>The preset's name (default run folders are named after it).</summary>
    public string Preset => preset;
    public string Title => title;
    public IReadOnlyList<string> Notes => notes;
    public IReadOnlyList<PlannedCell> Plan() => plan();

    /// <summary>Runs (or resumes) the experiment in <paramref name="runDir"/>, writes its report and returns
    /// what to show of it. On a worker rank of <c>--workers mpi</c> it ends by throwing
    /// <see cref="WorkerPassComplete"/> after its cells (rank 0 reports).</summary>
    public RunOutcome Execute(string runDir, DataCache data, Action<string> log) => execute(runDir, data, log);
}

/// <summary>What a finished experiment shows: its report's path and the lines to print (its checks, or its
/// report's tables).</summary>
public sealed record RunOutcome(string Report, IReadOnlyList<string> Lines)
{
    /// <summary>Each check as "VERDICT — name: text".</summary>
    public static RunOutcome OfChecks(string report, IEnumerable<Check> checks, string extra = "") =>
        new(report, [.. checks.Select(c => $"{Statistics.Verdicts.Word(c.Verdict)} — {c.Name}: {c.Text}"), .. extra == "" ? Array.Empty<string>() : [extra]]);
}
