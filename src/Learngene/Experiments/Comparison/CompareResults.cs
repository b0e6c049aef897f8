using System.Text.Json.Serialization;

namespace Learngene.Experiments.Comparison;

/// <summary>Everything a comparison measured; results.json holds exactly this.</summary>
public sealed record CompareResults
{
    public ComparePreset Preset { get; init; } = new();
    public string[] Methods { get; init; } = [];
    public int[] Seeds { get; init; } = [];
    /// <summary>Classes of the source task (chance level is 1 / this).</summary>
    public int SourceClasses { get; init; }
    public CellResult Teacher { get; init; } = new();
    /// <summary>The auxiliary model of each learngene method.</summary>
    public Dictionary<string, CellResult> Learngenes { get; init; } = [];
    /// <summary>The ancestry ViT of the baselines that take weights from the family's largest model (when one ran).</summary>
    public CellResult? Ancestry { get; init; }
    /// <summary>The pre-trained model of each measured depth, for the baseline that starts from a model of
    /// the descendant's own size (same budget as a learngene).</summary>
    public Dictionary<int, CellResult> Pretrained { get; init; } = [];
    /// <summary>Parameters each method stores to initialize the family of depths 1..AuxiliaryDepth.</summary>
    public Dictionary<string, long> StoredParameters { get; init; } = [];
    /// <summary>Images each method's pre-training processes for the family of depths 1..AuxiliaryDepth
    /// (one model per depth for a same-size baseline; the teacher's own training, shared, not included).</summary>
    public Dictionary<string, long> PretrainImages { get; init; } = [];
    /// <summary>FLOPs of the same pre-training: 2 per multiply-add, forward and backward of the trained
    /// model (3× its forward) plus the teacher's forward pass on every image it distils.</summary>
    public Dictionary<string, double> PretrainFlops { get; init; } = [];
    /// <summary>Scores an initializer computed per task (Auto-LG: its CKA per ancestry block), by method.</summary>
    public Dictionary<string, Dictionary<string, double[]>> InitializerScores { get; init; } = [];
    public List<CellResult> Cells { get; init; } = [];
    /// <summary>Seconds spent training every cell (also those computed by an earlier, resumed invocation).</summary>
    public double ComputeSeconds { get; init; }
    /// <summary>Wall-clock seconds spent on this run folder by every invocation so far (an interrupted and
    /// resumed run counts both parts; data loading and report writing included).</summary>
    public double WallSeconds { get; init; }
    public DateTime Finished { get; init; }

    /// <summary>Results written before initializers' scores were kept by method held Auto-LG's alone.</summary>
    [JsonPropertyName("auto_lg_scores"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, double[]>? LegacyAutoLgScores { get => null; init { if (value is { Count: > 0 }) InitializerScores = new() { ["auto-lg"] = value }; } }
}
