using Learngene.Statistics;

namespace Learngene.Reporting;

/// <summary>One claim of a paper or a project floor, decided: met when its interval clears the floor, missed when it
/// lies wholly on the wrong side, inconclusive otherwise (counts and times are exact), with its numbers.</summary>
public sealed record Check(string Name, Verdict Verdict, string Text)
{
    /// <summary>A check decided by an exact quantity (a count, a time): met or missed.</summary>
    public Check(string name, bool met, string text) : this(name, Verdicts.Exact(met), text) { }

    public bool Met => Verdict == Verdict.Met;
}
