namespace Learngene.Models.Stitching;

/// <summary>A configuration of a stitched family as measured: its size, its test accuracy and, when the run
/// kept a validation split, its validation accuracy — what picks and fronts are chosen on, so that the test
/// accuracy reported for a pick is not the maximum of noisy test scores.</summary>
public sealed record MeasuredConfig(string Id, long Parameters, long MacsPerImage, double Accuracy, double? ValidationAccuracy = null)
{
    /// <summary>The score a choice among configurations reads: validation accuracy when measured, else test.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public double ChoiceScore => ValidationAccuracy ?? Accuracy;
}

public static class BudgetPick
{
    /// <summary>The most accurate configuration within the budgets (ties: the smaller, then the id), or a
    /// clear error naming the smallest configuration when none fits.</summary>
    public static MeasuredConfig Best(IReadOnlyList<MeasuredConfig> configs, long? maxParameters = null, long? maxMacs = null)
    {
        if (configs.Count == 0) throw new LearngeneException("the family has no measured configurations");
        var fitting = configs.Where(c => (maxParameters is not long p || c.Parameters <= p) && (maxMacs is not long m || c.MacsPerImage <= m)).ToList();
        if (fitting.Count == 0)
        {
            var smallest = configs.OrderBy(c => maxParameters is null ? c.MacsPerImage : c.Parameters).First();
            throw new LearngeneException($"no configuration fits {Describe(maxParameters, maxMacs)}: the smallest is {smallest.Id} " +
                                         $"({smallest.Parameters:N0} parameters, {smallest.MacsPerImage:N0} MACs per image)", setting: maxParameters is null ? "budget-macs" : "budget-params");
        }
        return fitting.OrderByDescending(c => c.ChoiceScore).ThenBy(c => c.Parameters).ThenBy(c => c.Id, StringComparer.Ordinal).First();
    }

    static string Describe(long? parameters, long? macs) =>
        string.Join(" and ", new[] { parameters is long p ? $"{p:N0} parameters" : null, macs is long m ? $"{m:N0} MACs per image" : null }.Where(s => s is not null));

    /// <summary>The Pareto front over parameters: configurations no smaller one scores as well as (on
    /// validation when measured: <see cref="MeasuredConfig.ChoiceScore"/>).</summary>
    public static IReadOnlyList<MeasuredConfig> ParetoFront(IEnumerable<MeasuredConfig> configs)
    {
        var front = new List<MeasuredConfig>();
        foreach (var c in configs.OrderBy(c => c.Parameters).ThenByDescending(c => c.ChoiceScore))
            if (front.Count == 0 || c.ChoiceScore > front[^1].ChoiceScore) front.Add(c);
        return front;
    }
}
