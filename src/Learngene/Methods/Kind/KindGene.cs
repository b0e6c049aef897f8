using System.Text.Json;
using Learngene.Baselines.Tuning;
using Learngene.Data;
using Learngene.Diffusion;
using Learngene.IO;
using Learngene.Methods;
using Learngene.Models;
using Learngene.Models.Linears;
using Learngene.Training.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Methods.Kind;

/// <summary>A KIND learngene (docs/methods/kind.md): the pre-trained SVD-form DiT's learngene components and shared
/// parts (embedders, modulations, final layer, biases) and, beside them, the pre-training classes' tailors,
/// so that both a transfer (learngenes plus fresh tailors) and a recombination (learngenes plus chosen
/// tailors) can be built. Stored as a learngene file (<c>method: kind</c>) whose tensors are the network's
/// state dict and whose <see cref="LearngeneInfo.Model"/> is its DiT config.</summary>
public static class KindGene
{
    public const string Method = "kind";

    /// <summary>The diffusion settings the network was trained with, kept in the method settings.</summary>
    public sealed record Settings(string Prediction, int DiffusionSteps);

    /// <summary>Writes the learngene of a trained SVD-form DiT model file (the run's weight average).</summary>
    public static void Save(string modelPath, string genePath, string sourceData, long imagesSeen, int seed)
    {
        var model = ModelFile.LoadDiffusion(modelPath);
        using var network = model.Model;
        if (network.Architecture.Linears is not SvdForm)
            throw new LearngeneException($"{modelPath} is not an SVD-form DiT (KIND learns one: learngene learn kind)");
        var settings = new Settings(model.Metadata.GetValueOrDefault(DiffusionFile.PredictionKey, "velocity"), int.Parse(model.Metadata.GetValueOrDefault(DiffusionFile.StepsKey, "1000")));
        LearngeneFile.Save(genePath, network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value), new LearngeneInfo
        {
            Method = Method, Model = network.Architecture, SourceData = sourceData, ClassNames = model.ClassNames,
            Normalization = model.Normalization, ImagesSeen = imagesSeen, Seed = seed,
            MethodSettings = JsonSerializer.Serialize(settings, ModelConfig.Json),
        });
    }

    /// <summary>A loaded learngene: the pre-trained network and what it says of itself.</summary>
    public sealed record Loaded(DiffusionTransformer Network, LearngeneInfo Info, Settings Diffusion, string Path) : IDisposable
    {
        public SvdForm Form => (SvdForm)Network.Architecture.Linears!;
        public void Dispose() => Network.Dispose();

        /// <summary>Provenance a model built from it carries (so it samples with the right target).</summary>
        public Dictionary<string, string> Provenance() => new()
        {
            [DiffusionFile.PredictionKey] = Diffusion.Prediction, [DiffusionFile.StepsKey] = Diffusion.DiffusionSteps.ToString(), ["learngene"] = Path,
        };
    }

    public static Loaded Load(string path)
    {
        using var gene = LearngeneFile.Load(path, Method);
        if (gene.Info.Model is not DitConfig { Linears: SvdForm } config)
            throw new LearngeneException($"{path}: a kind learngene must hold an SVD-form DiT config");
        Settings settings;
        try { settings = JsonSerializer.Deserialize<Settings>(gene.Info.MethodSettings, ModelConfig.Json) ?? throw new JsonException(); }
        catch (JsonException) { throw new LearngeneException($"{path}: its kind settings do not parse"); }
        var network = new DiffusionTransformer(config);
        try { ModelFile.LoadInto(network, gene.Tensors, path); }
        catch { network.Dispose(); throw; }
        return new Loaded(network, gene.Info, settings, path);
    }

    /// <summary>Transfer to <paramref name="classes"/> new classes: the learngenes and shared parts carried
    /// over, fresh tailors (one block per new class, or <paramref name="tailorOf"/>; of the learngene's tailor
    /// rank, or <paramref name="tailorRank"/>) initialized at random at a fresh layer's scale (or, with
    /// <paramref name="zeroTailors"/>, at zero singular values), a fresh class table. Trains the tailors and the
    /// class table; with <paramref name="tuneLearngenes"/> the learngene components too. With
    /// <paramref name="nullTailor"/> the null class gets a tailor block of its own, after the classes' (started
    /// like theirs), so the unconditional branch of guidance adapts to the new classes too.</summary>
    public static DiffusionTransformer Transfer(Loaded gene, int classes, int[]? tailorOf = null, bool tuneLearngenes = false, int seed = 0, int? tailorRank = null, bool zeroTailors = false,
        bool nullTailor = false)
    {
        tailorOf ??= Enumerable.Range(0, classes).ToArray();
        var form = gene.Form with
        {
            TailorOf = tailorOf,
            TailorRank = tailorRank ?? gene.Form.TailorRank,
            NullTailor = nullTailor ? (tailorOf.Length == 0 ? 0 : tailorOf.Max() + 1) : -1,
        };
        string[] trains = tuneLearngenes ? ["tailor_", DitTransfer.TableName, "u", "s", "v"] : ["tailor_", DitTransfer.TableName];
        var target = gene.Network.Architecture with { Classes = classes, Linears = form };
        using var generator = new Generator((ulong)seed + 99);
        return DitTransfer.Build(gene.Network, target, (b, s, d) =>
        {
            var dst = (SvdLinear)d;
            dst.CopyLearngenes((SvdLinear)s);
            dst.InitializeTailors(generator, zeroTailors);
        }, trains);
    }

    /// <summary>The ablation without diversion: a DiT pre-trained in SVD form with every component shared (no class
    /// gate), carried over as KIND's learngene is — the top <see cref="SvdForm.LearngeneRank"/> singular components
    /// of each matrix as frozen learngenes, fresh tailors as in <see cref="Transfer"/>, a fresh class table.</summary>
    public static DiffusionTransformer TransferUngated(DiffusionTransformer shared, SvdForm kind, int classes, int seed = 0, bool zeroTailors = false, bool nullTailor = false)
    {
        var form = kind with { TailorOf = Enumerable.Range(0, classes).ToArray(), NullTailor = nullTailor ? classes : -1 };
        var target = shared.Architecture with { Classes = classes, Linears = form };
        using var generator = new Generator((ulong)seed + 99);
        return DitTransfer.Build(shared, target, (b, s, d) =>
        {
            var dst = (SvdLinear)d;
            using (var scope = torch.NewDisposeScope()) dst.LoadDense(s.Weight(), s.Bias);
            dst.InitializeTailors(generator, zeroTailors);
        }, ["tailor_", DitTransfer.TableName]);
    }

    /// <summary>Recombination: the learngenes plus the tailors of the chosen pre-training classes (their
    /// class rows kept, in the order given), so rank, parameters and MACs follow what is kept. An empty
    /// list keeps the learngenes alone, under every class label (each class's label without its tailor).</summary>
    public static DiffusionTransformer Recombine(Loaded gene, IReadOnlyList<int> classes)
    {
        var pre = gene.Form;
        int n = gene.Network.Architecture.Classes;
        if (classes.FirstOrDefault(c => c < 0 || c >= n, -1) is int bad and >= 0) throw new LearngeneException($"class {bad} is not one of the learngene's {n} classes", setting: "tailors");
        bool alone = classes.Count == 0;
        var kept = alone ? Enumerable.Range(0, n).ToArray() : classes.ToArray();
        // The tailor blocks the kept classes use, renumbered in first-use order (classes sharing a block still share it).
        var blocks = kept.Select(c => pre.TailorOf[c]).Where(b => b >= 0).Distinct().ToList();
        var form = pre with { NullTailor = -1, TailorOf = alone ? kept.Select(_ => -1).ToArray() : kept.Select(c => pre.TailorOf[c] < 0 ? -1 : blocks.IndexOf(pre.TailorOf[c])).ToArray() };
        var target = gene.Network.Architecture with { Classes = kept.Length, Linears = form };
        var model = DitTransfer.Build(gene.Network, target, (b, s, d) => ((SvdLinear)d).CopyFrom((SvdLinear)s, alone ? [] : blocks));
        using var _ = torch.no_grad();
        var table = model.LabelEmbedder.Table.weight!;
        var oldTable = gene.Network.LabelEmbedder.Table.weight!;
        for (int i = 0; i < kept.Length; i++) table[i].copy_(oldTable[kept[i]]);
        return model;
    }

    /// <summary>The class names of a recombined model.</summary>
    public static string[] NamesOf(Loaded gene, IReadOnlyList<int> classes) =>
        classes.Count == 0 ? gene.Info.ClassNames : classes.Select(c => gene.Info.ClassNames[c]).ToArray();
}
