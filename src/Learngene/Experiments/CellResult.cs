using Learngene.Training;

namespace Learngene.Experiments;

/// <summary>One finished unit of an experiment: a model trained once (a teacher, a learngene's auxiliary
/// model, a descendant of one method at one size and seed on one task…).</summary>
public sealed record CellResult
{
    public string Name { get; init; } = "";
    /// <summary>Another worker is computing it (<c>--workers mpi</c>): nothing but the name is known yet; see
    /// <see cref="CellStore.Need"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public bool Pending { get; init; }
    /// <summary>"source" or "transfer".</summary>
    public string Task { get; init; } = "";
    /// <summary>What made its starting point: a method (tleg, scratch…), a reference run (scratch-long) or
    /// the artefact's role (teacher, tleg-auxiliary, ancestry…). Stored as <c>init</c> in results files.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("init")] public string Method { get; init; } = "";
    public int Depth { get; init; }
    public int Seed { get; init; }
    public List<EpochMetrics> History { get; init; } = [];
    public long Parameters { get; init; }
    public long MacsPerImage { get; init; }
    /// <summary>The trained model (or learngene) file, relative to the run folder (so a moved or committed
    /// run folder stays valid); <see cref="CellStore.Resolve"/> gives the full path.</summary>
    public string ModelPath { get; init; } = "";
    public double Seconds { get; init; }
    public long TrainImages { get; init; }

    /// <summary>A test metric after the last epoch (NaN when there is none).</summary>
    public double Final(string metric) => History.Count == 0 ? double.NaN : History[^1].TestMetric(metric);

    [System.Text.Json.Serialization.JsonIgnore] public double FinalAccuracy => Final("accuracy"); // NaN for a model without accuracy: not valid JSON

    /// <summary>"accuracy 81.20%, loss 0.5312": the last epoch's test metrics, for logs (per-part ones such as
    /// <c>accuracy/ID</c> left out).</summary>
    public string Summary() => History.Count == 0 ? "no epochs" :
        string.Join(", ", History[^1].Test.Where(kv => !kv.Key.Contains('/')).Select(kv => kv.Key == "accuracy" ? $"accuracy {kv.Value * 100:F2}%" : $"{kv.Key} {kv.Value:G4}"));
}
