using System.Text.Json.Serialization;

namespace Learngene.Training;

/// <summary>One line of metrics.jsonl: the objective's named metrics on the training batches (averaged
/// over the epoch's samples) and on the test data, with the loop's own bookkeeping.</summary>
public sealed record EpochMetrics
{
    public int Epoch { get; init; }
    /// <summary>Training metrics by name ("loss", and e.g. "accuracy"), means over the epoch's samples.</summary>
    public Dictionary<string, double> Train { get; init; } = [];
    /// <summary>Test metrics by name; empty when the epoch was not evaluated.</summary>
    public Dictionary<string, double> Test { get; init; } = [];
    public double LearningRate { get; init; }
    public double ImagesPerSecond { get; init; }
    public double Seconds { get; init; }
    public long ImagesSeen { get; init; }
    public double ResidentMb { get; init; }
    /// <summary>Per test image, by metric ("accuracy", or "accuracy/ID" per configuration of a pool): whether
    /// it was classified correctly (<see cref="Statistics.TestOutcomes"/>), what a paired comparison resamples.
    /// Null for objectives that do not classify and in files written before outcomes were kept.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, string>? Outcomes { get; init; }

    /// <summary>The per-image outcomes of a metric; null when the epoch kept none.</summary>
    public bool[]? Correct(string metric = "accuracy") =>
        Outcomes is not null && Outcomes.TryGetValue(metric, out var bits) ? Statistics.TestOutcomes.Decode(bits) : null;

    /// <summary>A test metric, NaN when the epoch has none of that name.</summary>
    public double TestMetric(string name) => Test.TryGetValue(name, out var v) ? v : double.NaN;
    public double TrainMetric(string name) => Train.TryGetValue(name, out var v) ? v : double.NaN;

    [JsonIgnore] public double TestAccuracy => TestMetric("accuracy");
    [JsonIgnore] public double TestLoss => TestMetric("loss");
    [JsonIgnore] public double TrainLoss => TrainMetric("loss");
    [JsonIgnore] public double TrainAccuracy => TrainMetric("accuracy");

    // Files written before metrics were named (metrics.jsonl, checkpoints, results.json) hold these four
    // fields; they read into the dictionaries and are never written.
    [JsonPropertyName("train_loss"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? LegacyTrainLoss { get => null; init => Put(Train, "loss", value); }
    [JsonPropertyName("train_accuracy"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? LegacyTrainAccuracy { get => null; init => Put(Train, "accuracy", value); }
    [JsonPropertyName("test_loss"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? LegacyTestLoss { get => null; init => Put(Test, "loss", value); }
    [JsonPropertyName("test_accuracy"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? LegacyTestAccuracy { get => null; init => Put(Test, "accuracy", value); }

    static void Put(Dictionary<string, double> d, string name, double? value)
    {
        if (value is double v && !double.IsNaN(v)) d[name] = v;
    }
}
