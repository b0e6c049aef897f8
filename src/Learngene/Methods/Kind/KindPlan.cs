using System.Text.Json;
using Learngene.Baselines.Tuning;
using Learngene.Data;
using Learngene.Experiments.Dit;
using Learngene.Experiments.Planning;
using Learngene.Models;
using Learngene.Models.Linears;
using Learngene.Runs;
using Learngene.Training;
using Learngene.Training.Objectives;

namespace Learngene.Methods.Kind;

/// <summary>The KIND experiment's trainings: how each is specified and started (shared by the run and its
/// plan), and the plan of a preset — the judges, the three pre-trainings (KIND, the dense DiT, the ungated
/// ablation when asked) and every task's transfers of every method and seed, each started from random
/// pre-trained networks of full size.</summary>
public static class KindPlan
{
    /// <summary>A diffusion training run: the preset's objective settings, judged each epoch when a judge is given.</summary>
    public static RunSpec Spec(KindPreset preset, string dataName, int[] classes, DitConfig model, TrainOptions recipe, int? limit, string? judgePath,
        string? init) => new()
        {
            Data = dataName, Classes = classes, Model = model, Options = recipe, TrainLimit = limit, TestLimit = preset.TestLimit,
            TestSeed = preset.PretrainRecipe.Seed, Init = init, Objective = DiffusionObjective.Factory.Name,
            ObjectiveSettings = JsonSerializer.Serialize(preset.Diffusion with { Judge = judgePath }, ModelConfig.Json),
        };

    /// <summary>The SVD-form DiT KIND pre-trains: one tailor block per pre-training class.</summary>
    public static DitConfig KindConfig(KindPreset preset, DitConfig model) =>
        model with
        {
            Linears = SvdForm.OnePerClass(preset.LearngeneRank, preset.TailorRank, preset.PretrainClasses.Length) with { Separate = preset.SeparateQkv },
        };

    /// <summary>KIND's SVD-form DiT with every component shared: as many components, none gated by class.</summary>
    public static DitConfig UngatedConfig(DitConfig kind)
    {
        var form = (SvdForm)kind.Linears!;
        int shared = form.LearngeneRank + form.TailorRank * form.TailorBlocks;
        return kind with { Linears = form with { LearngeneRank = shared, TailorOf = form.TailorOf.Select(_ => -1).ToArray() } };
    }

    /// <summary>LoRA's and PiSSA's ranks: the smallest at which they train at least as much as KIND (the
    /// null-tailor variant's extra block included when it runs), and as much as KIND with its learngenes tuned.</summary>
    public static (int Rank, int Wide) MatchedRanks(KindPreset preset, KindGene.Loaded gene, DiffusionTransformer dense, int classes)
    {
        bool nullVariant = preset.Methods.Contains("kind-null");
        using var kind = KindGene.Transfer(gene, classes, nullTailor: nullVariant || preset.NullTailor);
        using var tuned = KindGene.Transfer(gene, classes, tuneLearngenes: true, nullTailor: preset.NullTailor);
        return (KindCosts.MatchedRank(kind, dense), KindCosts.MatchedRank(tuned, dense));
    }

    /// <summary>A transfer method's starting network for <paramref name="classes"/> new classes.</summary>
    public static DiffusionTransformer Start(KindPreset preset, string method, KindGene.Loaded gene, DiffusionTransformer? shared, DiffusionTransformer dense,
        int classes, int seed, int rank, int wide) =>
        method switch
        {
            "kind" => KindGene.Transfer(gene, classes, seed: seed, zeroTailors: preset.ZeroTailors(), nullTailor: preset.NullTailor),
            "kind-null" => KindGene.Transfer(gene, classes, seed: seed, zeroTailors: preset.ZeroTailors(), nullTailor: true),
            "kind-nogate" => KindGene.TransferUngated(shared!, gene.Form, classes, seed, preset.ZeroTailors(), preset.NullTailor),
            "kind-tune" => KindGene.Transfer(gene, classes, tuneLearngenes: true, seed: seed, zeroTailors: preset.ZeroTailors(), nullTailor: preset.NullTailor),
            "lora-wide" => TuningBaselines.Lora(dense, classes, wide),
            "pissa-wide" => TuningBaselines.Pissa(dense, classes, wide),
            "lora" => TuningBaselines.Lora(dense, classes, rank),
            "pissa" => TuningBaselines.Pissa(dense, classes, rank),
            "svdiff" => TuningBaselines.Svdiff(dense, classes),
            "full" => TuningBaselines.Full(dense, classes),
            "heur-lg" => TuningBaselines.HeurLg(dense, classes, preset.InheritBlocks),
            _ => throw new LearngeneException($"unknown transfer method '{method}' (known: " +
                $"{string.Join(", ", KindExperiment.AllMethods)})", setting: "methods"),
        };

    public static List<PlannedCell> Of(KindPreset preset)
    {
        var plan = new List<PlannedCell>();
        var source = StandInData.ShapeOf(preset.PretrainData);
        int size = DitExperiment.CommonSize(preset.Model, preset.Judge, source.ImageSize);
        var model = preset.Model with { ImageSize = size };
        var judge = preset.Judge with { ImageSize = size };
        var judgeRecipe = preset.JudgeRecipe with { Seed = preset.PretrainRecipe.Seed };
        var kindConfig = KindConfig(preset, model);
        PlannedCell Judge(string data, int[] classes) =>
            new(DitExperiment.JudgeName(data, classes), DitExperiment.JudgeSpec(judge, judgeRecipe, preset.JudgeTrainLimit, data, classes));
        PlannedCell Pretraining(string name, DitConfig config) =>
            new(name, Spec(preset, preset.PretrainData, preset.PretrainClasses, config, preset.PretrainRecipe, preset.PretrainLimit, null, null));
        plan.Add(Judge(preset.PretrainData, preset.PretrainClasses));
        plan.Add(Pretraining("pretrain-kind", kindConfig));
        plan.Add(Pretraining("pretrain-dit", model));
        bool ungated = preset.Methods.Contains("kind-nogate");
        if (ungated) plan.Add(Pretraining("pretrain-kind-nogate", UngatedConfig(kindConfig)));

        // The pre-trained networks every transfer starts from, at random, built once when the dry run first asks.
        int pretrainClasses = preset.PretrainClasses.Length;
        DiffusionTransformer Network(DitConfig config) => new((DitConfig)config.WithData(size, source.Channels, pretrainClasses).Validate());
        var gene = new Lazy<KindGene.Loaded>(() =>
            new KindGene.Loaded(Network(kindConfig), new LearngeneInfo { Method = KindGene.Method }, new KindGene.Settings("velocity", 1000), "(planned)"));
        var dense = new Lazy<DiffusionTransformer>(() => Network(model));
        var shared = new Lazy<DiffusionTransformer>(() => Network(UngatedConfig(kindConfig)));
        foreach (var task in preset.Tasks)
        {
            plan.Add(Judge(task.Data, task.Classes));
            int k = task.Classes.Length;
            var ranks = new Lazy<(int Rank, int Wide)>(() => MatchedRanks(preset, gene.Value, dense.Value, k));
            foreach (var method in preset.Methods)
                for (int seedIndex = 0; seedIndex < preset.SeedsOf(method); seedIndex++)
                {
                    string id = $"{task.Id}-{method}" + (seedIndex == 0 ? "" : $"-seed{seedIndex}");
                    int seed = preset.TransferRecipe.Seed + seedIndex;
                    var spec = Spec(preset, task.Data, task.Classes, model, preset.TransferRecipe with { Seed = seed }, preset.TransferLimit, null, null);
                    plan.Add(new PlannedCell($"transfer-{id}", spec)
                    {
                        Variant = method,
                        Start = _ => Start(preset, method, gene.Value, ungated ? shared.Value : null, dense.Value, k, seed, ranks.Value.Rank, ranks.Value.Wide),
                    });
                }
        }
        return plan;
    }
}
