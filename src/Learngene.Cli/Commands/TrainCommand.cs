using System.CommandLine;
using Learngene.Models;
using Learngene.Runs;
using Learngene.Training;

namespace Learngene.Cli;

/// <summary><c>learngene train</c>: a preset (model + budget) with every field overridable.</summary>
static class TrainCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"Model-and-budget preset: {string.Join("; ", TrainPresets.Registry.All.Select(p => $"{p.Name} ({p.Description})"))}", DefaultValueFactory = _ => "small" };
        var model = new Option<string?>("--model") { Description = $"Model preset, overriding the preset's: {string.Join(", ", ModelPresets.Registry.All.Select(p => p.Name))}" };
        var data = Shared.Data();
        var dataDir = Shared.DataDir();
        var output = new Option<string?>("--out") { Description = "Run folder to write (default: runs/train-TIMESTAMP)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder from its last checkpoint" };
        var teacher = new Option<string?>("--teacher") { Description = "Model file to distil from (with --distill soft|hard)" };
        var init = new Option<string?>("--init") { Description = "Model file to start from (e.g. a descendant written by 'expand'; its architecture is used, the head is re-created for another class count), " +
            $"or an initializer for the model given by --model/--depth…: {string.Join("; ", Learngene.Baselines.Initializers.Initializers.Registry.All.Select(i => $"{i.Name} ({i.Description})"))}" };
        var ancestry = new Option<string?>("--ancestry") { Description = "The trained model an initializer takes weights from (weight-selection, heur-lg, auto-lg: a ViT; pretrain-finetune: a model of the same size)" };
        var inherit = new Option<int>("--inherit") { Description = "Layers heur-lg and auto-lg inherit", DefaultValueFactory = _ => 3 };
        var wsLayers = Shared.WsLayers();
        var wsElements = Shared.WsElements();
        var threads = Shared.Threads();
        var device = new Option<string>("--device") { Description = "cpu or cuda", DefaultValueFactory = _ => "cpu" };
        var arch = new ArchitectureOptions();
        var recipe = new RecipeOptions();

        var cmd = new Command("train", "Train a model (ViT or ResNet) on a data set; writes run.json, metrics.jsonl, tb/, checkpoint.safetensors and model.safetensors into --out.");
        foreach (var o in new Option[] { preset, model, data, dataDir, output, resume, teacher, init, ancestry, inherit, wsLayers, wsElements, device, threads }) cmd.Options.Add(o);
        arch.AddTo(cmd);
        recipe.AddTo(cmd);
        cmd.Subcommands.Add(KindCommand.Train());
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var cache = Shared.Cache(r, dataDir);
            RunResult result;
            if (r.GetValue(resume) is string runDir)
            {
                var saved = RunSpec.Load(runDir);
                ModelConfig? requested = arch.AnyGiven(r) ? arch.Apply(r, saved.Model) : null;
                result = ConsoleProgress.Run(p => TrainRun.Resume(runDir, cache, requested, p, ConsoleProgress.Log));
            }
            else
            {
                var spec = BuildSpec(r.GetValue(preset)!, r.GetValue(model), r.GetValue(data)!, arch, recipe, r) with
                {
                    Teacher = r.GetValue(teacher), Device = r.GetValue(device)!, Init = r.GetValue(init),
                    Ancestry = r.GetValue(ancestry), InheritLayers = r.GetValue(inherit), WeightSelection = Shared.WsRules(r, wsLayers, wsElements),
                };
                string dir = r.GetValue(output) ?? Shared.TimestampedRunDir("train");
                result = ConsoleProgress.Run(p => TrainRun.Start(spec, dir, cache, p, ConsoleProgress.Log));
            }
            Summarize(result);
            return 0;
        });
        return cmd;
    }

    public static RunSpec BuildSpec(string presetName, string? modelName, string data, ArchitectureOptions arch, RecipeOptions recipe, ParseResult r,
        Func<TrainOptions, TrainOptions>? defaults = null)
    {
        var preset = TrainPresets.Registry.Find(presetName);
        var baseModel = ModelPresets.Registry.Find(modelName ?? preset.Model).Config with { ImageSize = preset.ImageSize ?? 0 };
        var options = recipe.Apply(r, (defaults ?? (o => o))(preset.Options));
        return new RunSpec
        {
            Data = data,
            Model = arch.Apply(r, baseModel),
            Options = options,
            TrainLimit = recipe.TrainLimit(r) ?? preset.TrainLimit,
            TestLimit = recipe.TestLimit(r) ?? preset.TestLimit,
        };
    }

    public static void Summarize(RunResult result)
    {
        var f = result.Final;
        Console.WriteLine($"test accuracy {f.TestAccuracy * 100:F2}% after {f.Epoch} epochs ({result.Parameters:N0} parameters, {result.MacsPerImage / 1e6:F1} M MACs/image)");
        Console.WriteLine($"model: {result.ModelPath}");
        Console.WriteLine($"run folder: {result.RunDir}");
    }
}

/// <summary>--depth, --width, --heads, --patch-size, --mlp-ratio, --pooling, --image-size.</summary>
sealed class ArchitectureOptions
{
    readonly Option<int?> depth = new("--depth") { Description = "Transformer blocks" };
    public Option<int?> Depth => depth;
    readonly Option<int?> width = new("--width") { Description = "Embedding width" };
    readonly Option<int?> heads = new("--heads") { Description = "Attention heads (must divide the width)" };
    readonly Option<int?> patch = new("--patch-size") { Description = "Patch size (images are resized to the nearest size it divides, unless --image-size is given, which it must divide)" };
    readonly Option<double?> mlp = new("--mlp-ratio") { Description = "MLP hidden width / width" };
    readonly Option<string?> pooling = new("--pooling") { Description = "cls (class token) or avg (mean of patch tokens)" };
    readonly Option<int?> imageSize = new("--image-size") { Description = "Resize images to this square size (default: the data's own, or the nearest size the patch size divides)" };

    Option[] All => [depth, width, heads, patch, mlp, pooling, imageSize];

    public void AddTo(Command cmd) { foreach (var o in All) cmd.Options.Add(o); }

    public bool AnyGiven(ParseResult r) => All.Any(o => r.GetResult(o) is { Implicit: false });

    public ModelConfig Apply(ParseResult r, ModelConfig c) => c switch
    {
        VitConfig v => v with
        {
            Depth = r.GetValue(depth) ?? v.Depth,
            Width = r.GetValue(width) ?? v.Width,
            Heads = r.GetValue(heads) ?? v.Heads,
            PatchSize = r.GetValue(patch) ?? v.PatchSize,
            MlpRatio = r.GetValue(mlp) ?? v.MlpRatio,
            Pooling = r.GetValue(pooling) ?? v.Pooling,
            ImageSize = r.GetValue(imageSize) ?? v.ImageSize,
        },
        // A ResNet has a width and an input size; the transformer's options do not apply to it.
        ResNetConfig n when new Option[] { depth, heads, patch, mlp, pooling }.FirstOrDefault(o => r.GetResult(o) is { Implicit: false }) is { } o =>
            throw new LearngeneException($"{o.Name} is a ViT setting; a ResNet takes --width and --image-size"),
        ResNetConfig n => n with { Width = r.GetValue(width) ?? n.Width, ImageSize = r.GetValue(imageSize) ?? n.ImageSize },
        DitConfig d when r.GetResult(pooling) is { Implicit: false } => throw new LearngeneException("--pooling is a ViT setting; a DiT has no pooling"),
        DitConfig d => d with
        {
            Depth = r.GetValue(depth) ?? d.Depth,
            Width = r.GetValue(width) ?? d.Width,
            Heads = r.GetValue(heads) ?? d.Heads,
            PatchSize = r.GetValue(patch) ?? d.PatchSize,
            MlpRatio = r.GetValue(mlp) ?? d.MlpRatio,
            ImageSize = r.GetValue(imageSize) ?? d.ImageSize,
        },
        _ => c with { ImageSize = r.GetValue(imageSize) ?? c.ImageSize },
    };
}

/// <summary>The training recipe's options, each overriding the preset.</summary>
sealed class RecipeOptions
{
    readonly Option<int?> epochs = new("--epochs") { Description = "Epochs" };
    readonly Option<int?> batch = new("--batch-size") { Description = "Batch size" };
    readonly Option<double?> lr = new("--lr") { Description = "Peak learning rate (AdamW)" };
    readonly Option<double?> wd = new("--weight-decay") { Description = "AdamW weight decay" };
    readonly Option<double?> warmup = new("--warmup-epochs") { Description = "Linear warmup, in epochs (fractions allowed)" };
    readonly Option<double?> smoothing = new("--label-smoothing") { Description = "Label smoothing" };
    readonly Option<double?> clip = new("--clip-grad") { Description = "Max gradient norm (0: off)" };
    readonly Option<bool> noAugment = new("--no-augment") { Description = "Turn off random crops and flips" };
    readonly Option<int?> seed = new("--seed") { Description = "Seed for weights, data order and augmentation" };
    readonly Option<string?> distill = new("--distill") { Description = "none, soft or hard (needs --teacher)" };
    readonly Option<double?> alpha = new("--distill-alpha") { Description = "Weight of the distillation loss (CE gets 1 - alpha)" };
    readonly Option<double?> temperature = new("--temperature") { Description = "Soft distillation temperature" };
    readonly Option<int?> trainLimit = new("--train-limit") { Description = "Use at most this many training images (seeded subset)" };
    readonly Option<int?> testLimit = new("--test-limit") { Description = "Use at most this many test images (seeded subset)" };

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { epochs, batch, lr, wd, warmup, smoothing, clip, noAugment, seed, distill, alpha, temperature, trainLimit, testLimit })
            cmd.Options.Add(o);
    }

    public int? TrainLimit(ParseResult r) => Positive(r.GetValue(trainLimit), "--train-limit");
    public int? TestLimit(ParseResult r) => Positive(r.GetValue(testLimit), "--test-limit");

    static int? Positive(int? v, string name) =>
        v is < 1 ? throw new LearngeneException($"{name} must be at least 1 (got {v})") : v;

    public TrainOptions Apply(ParseResult r, TrainOptions o)
    {
        var distillMode = r.GetValue(distill) ?? (r.GetValue(alpha) is not null ? "soft" : o.Distill);
        return (o with
        {
            Epochs = r.GetValue(epochs) ?? o.Epochs,
            BatchSize = r.GetValue(batch) ?? o.BatchSize,
            LearningRate = r.GetValue(lr) ?? o.LearningRate,
            WeightDecay = r.GetValue(wd) ?? o.WeightDecay,
            WarmupEpochs = r.GetValue(warmup) ?? o.WarmupEpochs,
            LabelSmoothing = r.GetValue(smoothing) ?? o.LabelSmoothing,
            ClipGrad = r.GetValue(clip) ?? o.ClipGrad,
            Augment = !r.GetValue(noAugment) && o.Augment,
            Seed = r.GetValue(seed) ?? o.Seed,
            Distill = distillMode,
            DistillAlpha = r.GetValue(alpha) ?? o.DistillAlpha,
            Temperature = r.GetValue(temperature) ?? o.Temperature,
        }).Validate();
    }
}
