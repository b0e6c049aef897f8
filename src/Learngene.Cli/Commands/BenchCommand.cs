using System.CommandLine;
using System.Text.Json;
using Learngene.Bench;
using Learngene.IO;
using Learngene.Models;

namespace Learngene.Cli;

static class BenchCommand
{
    /// <summary>`bench onnx`: ONNX Runtime against TorchSharp for inference, back to back.</summary>
    static Command OnnxBenchCommand()
    {
        var output = new Option<string?>("--out") { Description = "Folder for onnx.json (default: runs/bench-onnx)" };
        var steps = new Option<int>("--steps") { Description = "Timed batches per round", DefaultValueFactory = _ => 20 };
        var batch = new Option<int>("--batch") { Description = "Images per batch", DefaultValueFactory = _ => 64 };
        var threads = new Option<int>("--threads") { Description = "CPU threads for both runtimes", DefaultValueFactory = _ => 2 };
        var models = new Option<string>("--models") { Description = "Comma-separated classifier presets", DefaultValueFactory = _ => "vit-cpu,deit-ti-32,resnet-cpu" };
        var cmd = new Command("onnx", "Inference images/s of TorchSharp and ONNX Runtime on the same exported classifier, same batch and threads, in alternating rounds.");
        foreach (var o in new Option[] { output, steps, batch, threads, models }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            if (r.GetValue(steps) < 1 || r.GetValue(batch) < 1) throw new LearngeneException("--steps and --batch must be at least 1");
            Shared.SetThreads(r.GetValue(threads));
            var results = new List<OnnxBench.Result>();
            foreach (var name in r.GetValue(models)!.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var preset = ModelPresets.Registry.Find(name.Trim());
                Console.WriteLine($"{preset.Name}: TorchSharp and ONNX Runtime, {r.GetValue(steps)} batches of {r.GetValue(batch)}, 3 rounds each");
                results.Add(OnnxBench.Measure(preset.Name, preset.Config.Validate(), r.GetValue(batch), r.GetValue(steps), r.GetValue(threads)));
            }
            Console.WriteLine();
            Console.WriteLine($"CPU: {OnnxBench.CpuName()}, {r.GetValue(threads)} threads");
            Console.WriteLine("| model | batch | MMACs/img | TorchSharp img/s | ONNX Runtime img/s | ONNX / TorchSharp | max abs logit difference |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            foreach (var x in results)
                Console.WriteLine($"| {x.Model} | {x.Batch} | {x.MacsPerImage / 1e6:F1} | {x.TorchImagesPerSec:F0} | {x.OnnxImagesPerSec:F0} | {x.OnnxOverTorch:F2}× | {x.MaxAbsDifference:E1} |");
            string dir = r.GetValue(output) ?? Path.Combine("runs", "bench-onnx");
            AtomicFile.WriteAllText(Path.Combine(dir, "onnx.json"), JsonSerializer.Serialize(new
            {
                cpu = OnnxBench.CpuName(), threads = r.GetValue(threads), steps = r.GetValue(steps), date = DateTime.UtcNow, results,
            }, ModelConfig.Json));
            Console.WriteLine($"written: {Path.Combine(dir, "onnx.json")}");
            return 0;
        });
        return cmd;
    }

    /// <summary>`bench conv-stress`: the ResNet teacher's convolutions, at training's and evaluation's shapes, against float64.</summary>
    static Command ConvStressCommand()
    {
        var model = new Option<string>("--model") { Description = "A ResNet preset whose convolutions are called", DefaultValueFactory = _ => "resnet-smoke" };
        var batches = new Option<string>("--batches") { Description = "Batch sizes (comma-separated): a full batch, a last batch, an evaluation chunk", DefaultValueFactory = _ => "64,24,100" };
        var repeats = new Option<int>("--repeats") { Description = "Rounds over every site and batch size", DefaultValueFactory = _ => 200 };
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => 2 };
        var libtorch = new Option<bool>("--libtorch-backward") { Description = "Also check libtorch's own convolution backward (which SafeConv2d avoids)" };
        var cmd = new Command("conv-stress", "Calls the ResNet's float32 CPU convolutions thousands of times at the shapes training and evaluation use, each against a float64 reference; counts non-finite and wrong results per site, batch and call.");
        foreach (var o in new Option[] { model, batches, repeats, threads, libtorch }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            if (r.GetValue(repeats) < 1) throw new LearngeneException("--repeats must be a whole number of at least 1");
            if (ModelPresets.Registry.Find(r.GetValue(model)!).Config is not ResNetConfig config) throw new LearngeneException($"{r.GetValue(model)} is not a ResNet preset");
            var sizes = r.GetValue(batches)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(b => long.TryParse(b.Trim(), out var n) && n >= 1 ? n : throw new LearngeneException($"--batches expects whole numbers of at least 1, separated by commas (got '{b}')")).ToList();
            Shared.SetThreads(r.GetValue(threads));
            Console.WriteLine($"CPU: {OnnxBench.CpuName()}, {r.GetValue(threads)} threads; GLIBC_TUNABLES={Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "(unset)"}; " +
                              $"OMP_NUM_THREADS={Environment.GetEnvironmentVariable("OMP_NUM_THREADS") ?? "(unset)"}; ONEDNN_MAX_CPU_ISA={Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? "(unset)"}");
            var tallies = ConvStress.Run(ConvStress.SitesOf(config, config.ImageSize), sizes, r.GetValue(repeats), r.GetValue(libtorch), seed: 1, Console.WriteLine);
            Console.WriteLine("| site | batch | call | calls | non-finite | wrong (rel. error > 1e-3) | worst rel. error |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            foreach (var t in tallies)
                Console.WriteLine($"| {t.Site} | {t.Batch} | {t.Call} | {t.Calls} | {t.NonFinite} | {t.Wrong} | {t.WorstRelativeError:E1} |");
            foreach (var group in tallies.GroupBy(t => t.Call.StartsWith("SafeConv2d") ? "SafeConv2d (what the project runs)" : "libtorch's conv2d (oneDNN on the CPU)"))
                Console.WriteLine($"{group.Key}: {group.Sum(t => t.Calls)} calls, {group.Sum(t => t.NonFinite)} non-finite, {group.Sum(t => t.Wrong)} wrong");
            // The exit code judges what the project runs; libtorch's own kernels are reported, not judged.
            return tallies.Any(t => t.Call.StartsWith("SafeConv2d") && (t.NonFinite > 0 || t.Wrong > 0)) ? 1 : 0;
        });
        return cmd;
    }

    public static Command Create()
    {
        var cmd = new Command("bench", "Benchmarks.");
        var output = new Option<string?>("--out") { Description = "Folder for throughput.json (default: runs/bench-throughput)" };
        var steps = new Option<int>("--steps") { Description = "Timed steps per measurement", DefaultValueFactory = _ => 20 };
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => 2 };
        var models = new Option<string>("--models") { Description = "Comma-separated model presets", DefaultValueFactory = _ => "deit-ti-32,vit-cpu,dit-cpu" };
        var throughput = new Command("throughput",
            "Training (bare TorchSharp loop and the Learngene trainer) and inference images/s and GFLOP/s, batch 64 (deit-ti-32) / 128 (CPU presets; dit-cpu: the diffusion step and one denoising pass).");
        foreach (var o in new Option[] { output, steps, threads, models }) throughput.Options.Add(o);
        throughput.SetAction(r =>
        {
            if (r.GetValue(steps) < 1) throw new LearngeneException("--steps must be at least 1");
            Shared.SetThreads(r.GetValue(threads));
            var results = new List<ThroughputBench.Result>();
            foreach (var name in r.GetValue(models)!.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var preset = ModelPresets.Registry.Find(name.Trim());
                results.Add(ThroughputBench.Measure(preset.Name, preset.Config.Validate(), ThroughputBench.BatchFor(preset.Name), r.GetValue(steps), Console.WriteLine));
            }
            // A Markdown table: readable in a terminal and pasted as is into the README.
            Console.WriteLine();
            Console.WriteLine("| model | batch | parameters | MMACs/img | bare loop train img/s | trainer img/s | trainer/bare | train GFLOP/s | inference img/s | inference GFLOP/s |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
            foreach (var x in results)
                Console.WriteLine($"| {x.Model} | {x.Batch} | {x.Parameters:N0} | {x.MacsPerImage / 1e6:F1} | {x.BareTrainImagesPerSec:F1} | {x.TrainerImagesPerSec:F1} | " +
                                  $"{x.TrainerOverBare * 100:F0}% | {x.BareTrainGflops:F1} | {x.InferenceImagesPerSec:F1} | {x.InferenceGflops:F1} |");
            Console.WriteLine();
            string dir = r.GetValue(output) ?? Path.Combine("runs", "bench-throughput");
            AtomicFile.WriteAllText(Path.Combine(dir, "throughput.json"), JsonSerializer.Serialize(new
            {
                threads = r.GetValue(threads), steps = r.GetValue(steps), machine = Environment.MachineName, date = DateTime.UtcNow,
                results = results.Select(x => new { x.Model, x.Description, x.Batch, x.Parameters, x.MacsPerImage, x.BareTrainImagesPerSec, x.TrainerImagesPerSec, x.TrainerOverBare, x.BareTrainGflops, x.InferenceImagesPerSec, x.InferenceGflops }),
            }, ModelConfig.Json));
            Console.WriteLine($"written: {Path.Combine(dir, "throughput.json")}");
            return 0;
        });
        cmd.Subcommands.Add(throughput);
        cmd.Subcommands.Add(OnnxBenchCommand());
        cmd.Subcommands.Add(ConvStressCommand());
        // Every registered experiment by name, and bench tleg: the comparison with TLEG's methods only.
        foreach (var experiment in Learngene.Experiments.ExperimentRegistry.Registry.All.OrderBy(e => e.Name)) cmd.Subcommands.Add(ExperimentCommand.For(experiment));
        cmd.Subcommands.Add(ExperimentCommand.For(Learngene.Experiments.ExperimentRegistry.Registry.Find("compare"), "tleg",
            new Dictionary<string, string> { ["methods"] = "tleg,scratch,pretrain-finetune" },
            "TLEG against scratch and pretrain-finetune (the same runner as 'bench compare --methods tleg,scratch,pretrain-finetune')."));
        cmd.Subcommands.Add(MpiBenchCommand.Create());
        return cmd;
    }
}
