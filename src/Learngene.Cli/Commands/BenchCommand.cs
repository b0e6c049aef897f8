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
        cmd.Subcommands.Add(CompareBench.Create());
        cmd.Subcommands.Add(CompareBench.CreateTleg());
        cmd.Subcommands.Add(PoolBench.Create());
        cmd.Subcommands.Add(DitBench.Create());
        cmd.Subcommands.Add(KindBench.Create());
        cmd.Subcommands.Add(MpiBenchCommand.Create());
        return cmd;
    }
}
