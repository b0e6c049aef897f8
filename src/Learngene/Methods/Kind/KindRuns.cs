using Learngene.Data;
using Learngene.Experiments.Dit;
using Learngene.IO;
using Learngene.Methods;
using Learngene.Models;
using Learngene.Models.Linears;
using Learngene.Runs;
using TorchSharp;

namespace Learngene.Methods.Kind;

/// <summary>KIND's runs: learning (a diffusion run of an SVD-form DiT, then its learngene file),
/// transfer (a diffusion run from the learngenes plus fresh tailors) and recombination.</summary>
public static class KindRuns
{
    /// <summary>The settings of a KIND diffusion run: the DiT preset, the data and its classes, the judge.</summary>
    public static IReadOnlyList<Setting> DiffusionSettings(string data, string classes) =>
    [
        new("preset", $"DiT size and budget: {string.Join("; ", DitPreset.Registry.All.Select(p => $"{p.Name} ({p.Description})"))} (default: small)"),
        new("data", $"Data set (default: {data}); a+b combines built-in sets (their classes one after the other)"),
        new("classes", classes),
        new("judge", "A classifier model file of the run's classes: each epoch then also reports FD-clf and accuracy on samples"),
    ];

    /// <summary>The diffusion run the settings describe (<see cref="DiffusionSettings"/>, and the architecture and
    /// recipe's <see cref="TrainingSettings"/>).</summary>
    public static RunSpec DiffusionSpec(GivenSettings s, string defaultData)
    {
        var p = DitPreset.Registry.Find(s.Text("preset") ?? "small");
        string? judge = s.Text("judge") is string j ? Path.GetFullPath(j) : null;
        if (judge is not null && !File.Exists(judge)) throw new LearngeneException($"{judge}: no such file", setting: "judge");
        return TrainingSettings.Apply(DitExperiment.Spec(p, s.Text("data") ?? defaultData, judge, KindMethod.ParseIndices(s.Text("classes"), "--classes")), s);
    }

    /// <summary>The diffusion run <paramref name="dit"/> with its DiT in SVD form: learngene and tailor ranks,
    /// the class→tailor map (null: one block per class), the orthogonality penalty's weight, and whether q, k and v
    /// are decomposed apart (the default) or as one stacked matrix.</summary>
    public static RunSpec LearnSpec(RunSpec dit, int learngeneRank, int tailorRank, int[]? tailorOf, double orthogonality, bool separateQkv = true)
    {
        var model = dit.Model as DitConfig ?? throw new LearngeneException($"KIND trains a DiT, not a {dit.Model.Family} model", setting: "model");
        return dit with { Model = model with { Linears = new SvdForm { LearngeneRank = learngeneRank, TailorRank = tailorRank, TailorOf = tailorOf ?? [], Orthogonality = orthogonality, Separate = separateQkv } } };
    }

    /// <summary>Writes the learngene of a finished learning run beside its model file.</summary>
    public static string SaveGene(RunResult result)
    {
        var spec = RunSpec.Load(result.RunDir);
        string path = Path.Combine(result.RunDir, TrainRun.GeneName);
        KindGene.Save(result.ModelPath, path, spec.Data, result.Final.ImagesSeen, spec.Options.Seed);
        return path;
    }

    /// <summary>A transfer run: the diffusion run <paramref name="dit"/> (its data and classes) starting from the
    /// learngenes plus fresh tailors, whose starting model is written into the run folder.</summary>
    public static RunSpec TransferSpec(string genePath, RunSpec dit, bool tuneLearngenes, string runDir, DataCache cache, int[]? tailorOf = null, int? tailorRank = null,
        bool zeroTailors = false, bool nullTailor = false)
    {
        if (File.Exists(Path.Combine(runDir, RunSpec.FileName))) throw new LearngeneException($"{runDir} already holds a run: resume it, or choose another run folder", setting: "out");
        using var gene = KindGene.Load(genePath);
        var names = ClassNames(dit, cache);
        if (tailorOf is not null && tailorOf.Length != names.Length)
            throw new LearngeneException($"the tailor map has {tailorOf.Length} entries for {names.Length} classes", setting: "tailor-map");
        if (tailorRank is < 1) throw new LearngeneException($"the tailor rank must be at least 1 (got {tailorRank})", setting: "tailor-rank");
        torch.manual_seed(dit.Options.Seed);
        using var model = KindGene.Transfer(gene, names.Length, tailorOf, tuneLearngenes, dit.Options.Seed, tailorRank, zeroTailors, nullTailor);
        string init = Path.Combine(Path.GetFullPath(runDir), "init.safetensors");
        Directory.CreateDirectory(runDir);
        ModelFile.Save(init, model, model, gene.Info.Normalization, names, gene.Provenance());
        return dit with { Init = init, Model = model.Architecture };
    }

    static string[] ClassNames(RunSpec spec, DataCache cache)
    {
        var all = cache.Raw(spec.Data).Train.ClassNames;
        if (spec.Classes is null) return all.ToArray();
        foreach (var k in spec.Classes)
            if (k < 0 || k >= all.Count) throw new LearngeneException($"class {k} is not one of {spec.Data}'s {all.Count} classes (0..{all.Count - 1})", setting: "classes");
        return spec.Classes.Select(k => all[k]).ToArray();
    }

    public sealed record Recombined(string Path, string[] ClassNames, long Parameters, long MacsPerImage, int Rank);

    /// <summary>A model of the learngenes plus the chosen pre-training classes' tailors (none: the learngenes
    /// alone under every class label), written as a diffusion model file.</summary>
    public static Recombined Recombine(string genePath, IReadOnlyList<int> classes, string outPath)
    {
        using var gene = KindGene.Load(genePath);
        using var model = KindGene.Recombine(gene, classes);
        var names = KindGene.NamesOf(gene, classes);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        ModelFile.Save(outPath, model, model, gene.Info.Normalization, names, gene.Provenance());
        var form = (SvdForm)model.Architecture.Linears!;
        return new Recombined(outPath, names, model.parameters().Sum(p => p.numel()), model.MacsPerImage(), form.LearngeneRank + form.TailorRank * form.TailorBlocks);
    }
}
