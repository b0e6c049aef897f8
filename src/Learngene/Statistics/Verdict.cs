namespace Learngene.Statistics;

/// <summary>What an interval says about a floor: met when it lies wholly on the floor's good side, missed when
/// wholly on the other, inconclusive when it straddles the floor ("not resolved at this scale").</summary>
public enum Verdict { Met, Missed, Inconclusive }

public static class Verdicts
{
    /// <summary>The verdict on "the quantity exceeds <paramref name="floor"/>" (or stays below it when
    /// <paramref name="higherIsBetter"/> is false) read from its interval. A NaN bound decides nothing.</summary>
    public static Verdict Decide(Interval interval, double floor, bool higherIsBetter = true)
    {
        var (low, high) = higherIsBetter ? (interval.Low, interval.High) : (-interval.High, -interval.Low);
        double f = higherIsBetter ? floor : -floor;
        if (double.IsNaN(low) || double.IsNaN(high)) return Verdict.Inconclusive;
        if (low > f) return Verdict.Met;
        if (high < f) return Verdict.Missed;
        return Verdict.Inconclusive;
    }

    /// <summary>A deterministic quantity (a count of parameters, a wall-clock floor): met or missed outright.</summary>
    public static Verdict Exact(bool met) => met ? Verdict.Met : Verdict.Missed;

    /// <summary>A claim made of parts that must all hold ("at every depth"): met when every part is met, missed
    /// when any part is missed, inconclusive otherwise.</summary>
    public static Verdict All(IEnumerable<Verdict> parts)
    {
        var list = parts.ToList();
        if (list.Count == 0) return Verdict.Inconclusive;
        if (list.Contains(Verdict.Missed)) return Verdict.Missed;
        return list.All(v => v == Verdict.Met) ? Verdict.Met : Verdict.Inconclusive;
    }

    /// <summary>A claim that holds when any one of its parts holds ("SWS or TLEG").</summary>
    public static Verdict Any(IEnumerable<Verdict> parts)
    {
        var list = parts.ToList();
        if (list.Contains(Verdict.Met)) return Verdict.Met;
        return list.Count > 0 && list.All(v => v == Verdict.Missed) ? Verdict.Missed : Verdict.Inconclusive;
    }

    public static string Word(this Verdict v) => v switch { Verdict.Met => "met", Verdict.Missed => "MISSED", _ => "inconclusive" };
}
