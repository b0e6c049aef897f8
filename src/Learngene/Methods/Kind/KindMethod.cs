using Learngene.Runs;

namespace Learngene.Methods.Kind;

/// <summary>KIND (docs/methods/kind.md) through the method contract. Its file holds a pre-trained DiT in SVD
/// form: the class-agnostic learngene components, each pre-training class's tailor block and the shared parts.
/// Expanding recombines: the learngenes plus the chosen classes' tailors (or none), one diffusion model file.
/// Transfer to new classes, with fresh tailors, is a training run ('train kind').</summary>
public sealed class KindMethod : ILearngeneMethod
{
    public string Name => KindGene.Method;
    public string Description => "KIND: a diffusion transformer in SVD form whose components a class gate splits into learngenes and class tailors";
    public string Stores => "the SVD-form DiT: learngene components, one tailor block per pre-training class, embeddings, adaLN and final layer";

    public IReadOnlyList<Setting> ExpandSettings =>
        [new("tailors", "KIND: recombine the learngenes with these pre-training classes' tailors (indices, e.g. 0,3; none: the learngenes alone)")];

    public Expansion Expand(string genePath, ExpandRequest request)
    {
        string kept = request.Text("tailors")
            ?? throw new LearngeneException($"{genePath} is a kind learngene: it recombines with --tailors (pre-training class indices, or none), it has no depths", setting: "tailors");
        var classes = kept.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) ? [] : ParseIndices(kept, "--tailors")!;
        string name = classes.Length == 0 ? "learngenes-only" : "tailors-" + string.Join("-", classes);
        var made = KindRuns.Recombine(genePath, classes, Path.Combine(request.OutDir, name + ".safetensors"));
        return new Expansion([new Descendant(made.Path, made.Parameters, made.MacsPerImage, $"learngenes + tailors of [{string.Join(", ", made.ClassNames)}], rank {made.Rank}")],
            "1 model recombined (MACs per denoising step and image)");
    }

    public IReadOnlyList<string> Describe(string genePath)
    {
        using var gene = KindGene.Load(genePath);
        var form = gene.Form;
        long stored = gene.Network.parameters().Sum(p => p.numel());
        var tailored = Enumerable.Range(0, gene.Info.ClassNames.Length).Where(c => c < form.TailorOf.Length && form.TailorOf[c] >= 0).Select(c => gene.Info.ClassNames[c]);
        return
        [
            $"learngene (kind): {stored:N0} stored parameters, {Stores}",
            $"learngene rank {form.LearngeneRank}, {form.TailorBlocks} tailor blocks of rank {form.TailorRank} (q, k, v {(form.Separate ? "decomposed apart" : "as one matrix")}); " +
                $"tailors of: {string.Join(", ", tailored)}; pre-trained on {gene.Info.SourceData}, {gene.Info.ImagesSeen:N0} images seen ({gene.Diffusion.Prediction} target)",
            "expands by recombination ('expand --tailors 0,3' or 'none') and transfers to new classes with fresh tailors ('train kind')",
        ];
    }

    public IReadOnlyList<Setting> LearnSettings =>
    [
        .. KindRuns.DiffusionSettings("mnist+fashion-mnist", "Pre-training classes (indices of the data's classes; default: all)"),
        new("learngene-rank", "Learngene (class-agnostic) components per matrix (default: 48)"),
        new("tailor-rank", "Tailor components per class block (default: 8)"),
        new("tailor-map", "The tailor block of each class, e.g. 0,0,1,1 (classes may share; −1: none); default: one block per class"),
        new("qkv", "separate (q, k and v each decomposed on its own, as the authors' DivControl states KIND's decomposition; the default) or fused (one decomposition of the stacked qkv)"),
        new("orthogonality", "Weight of the penalty keeping U and V orthonormal (default 0: off; on, it couples every component)"),
        new("resume", "Continue the learning run in this folder from its last checkpoint"),
        .. TrainingSettings.Architecture,
        .. TrainingSettings.Recipe,
    ];

    /// <summary>A DiT in SVD form trained with the diffusion objective, each sample's class gating its tailor
    /// components (knowledge diversion); the run's model file, and beside it the learngene (learngenes, shared
    /// parts and the pre-training tailors).</summary>
    public Learned Learn(LearnRequest request)
    {
        var s = request.Settings;
        RunResult result;
        if (s.Text("resume") is string runDir) result = TrainRun.Resume(runDir, request.Data, null, request.Observer, request.Log);
        else
        {
            bool separate = (s.Text("qkv") ?? "separate") switch
            {
                "separate" => true,
                "fused" => false,
                var other => throw new LearngeneException($"--qkv must be separate or fused (got '{other}')", setting: "qkv"),
            };
            var spec = KindRuns.LearnSpec(KindRuns.DiffusionSpec(s, "mnist+fashion-mnist"), s.Count("learngene-rank") ?? 48, s.Count("tailor-rank") ?? 8,
                ParseIndices(s.Text("tailor-map"), "--tailor-map"), s.Double("orthogonality") ?? 0, separate);
            result = TrainRun.Start(spec, request.OutDir, request.Data, request.Observer, request.Log);
        }
        return new Learned(KindRuns.SaveGene(result), [$"EMA test loss {result.Final.TestMetric("ema_loss"):G4} after {result.Final.Epoch} epochs ({result.Parameters:N0} parameters)"]);
    }

    /// <summary>"0,3" → [0, 3], with one clear error naming the option for anything else.</summary>
    public static int[]? ParseIndices(string? text, string option)
    {
        if (text is null) return null;
        return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(x => int.TryParse(x, out int k) ? k : throw new LearngeneException($"'{x}' in {option} is not an index (expected e.g. 0,1,2)")).ToArray();
    }
}
