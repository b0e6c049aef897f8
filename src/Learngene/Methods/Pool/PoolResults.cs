using Learngene.Experiments;
using Learngene.Models.Stitching;

namespace Learngene.Methods.Pool;

/// <summary>One stitched family after fine-tuning: Learngene Pool (with one stitch initialization) or SN-Net.</summary>
public sealed record FamilyResult
{
    /// <summary>The run's name for it: pool-learned, pool-ls, sn-net…</summary>
    public string Name { get; init; } = "";
    /// <summary>"pool" or "sn-net".</summary>
    public string Family { get; init; } = "";
    public string StitchInit { get; init; } = "";
    /// <summary>Which members are stitched: "neighbours" or "ends".</summary>
    public string Pairs { get; init; } = "neighbours";
    /// <summary>Fine-tuning loss and schedule, in words.</summary>
    public string Finetuning { get; init; } = "";
    /// <summary>Its learngene file (the first seed's fine-tuning), relative to the run folder.</summary>
    public string File { get; init; } = "";
    /// <summary>The pre-trained models it is stitched from (instances, anchors, the teacher), by cell name.</summary>
    public string[] Members { get; init; } = [];
    /// <summary>Parameters the family stores: its models and stitch layers (the whole learngene file).</summary>
    public long StoredParameters { get; init; }
    /// <summary>Images and FLOPs spent before use: training its members (teacher forward included) and one
    /// pool fine-tuning; the teacher's own training, shared by every family, is not counted.</summary>
    public long PretrainImages { get; init; }
    public double PretrainFlops { get; init; }
    /// <summary>One fine-tuning per seed (the same starting pool, the same images; the draw of configurations
    /// and the batch order follow the seed).</summary>
    public List<CellResult> Finetunes { get; init; } = [];
    /// <summary>Every configuration: id, parameters, MACs per image, test and validation accuracy (means over seeds).</summary>
    public MeasuredConfig[] Configurations { get; init; } = [];
    /// <summary>Test accuracy of each configuration right after the stitch initialization, before fine-tuning.</summary>
    public Dictionary<string, double> InitialAccuracy { get; init; } = [];
    /// <summary>Each stitch point's relative residual ‖W·x + b − y‖² / ‖y − ȳ‖² right after the initialization,
    /// on the calibration images.</summary>
    public Dictionary<string, double> Residuals { get; init; } = [];

    /// <summary>Per seed, a configuration's per-image test outcomes after fine-tuning.</summary>
    public bool[][] TestOutcomes(string id) => Finetunes.Select(c => c.History[^1].Correct($"accuracy/{id}")
        ?? throw new LearngeneException($"{Name}'s fine-tuning kept no per-image outcomes for {id}: made by an older version; run it again")).ToArray();
}

/// <summary>What <c>bench pool</c> writes to results.json.</summary>
public sealed record PoolResults
{
    public PoolPreset Preset { get; init; } = new();
    public CellResult Teacher { get; init; } = new();
    /// <summary>Every instance and anchor cell by name.</summary>
    public Dictionary<string, CellResult> Pretrained { get; init; } = [];
    public List<FamilyResult> Families { get; init; } = [];
    public int TestImages { get; init; }
    public int ValidationImages { get; init; }
    public double ComputeSeconds { get; init; }
    public double WallSeconds { get; init; }
    public DateTime Finished { get; init; }

    public FamilyResult Find(string name) => Families.FirstOrDefault(f => f.Name == name) ?? throw new LearngeneException($"the results hold no family '{name}'");
}
