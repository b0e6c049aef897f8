using System.Diagnostics;
using Learngene.IO;
using static TorchSharp.torch;

namespace Learngene.Tests.Reliability;

/// <summary>A run killed with SIGKILL at random moments, then resumed, ends with the weights of an
/// uninterrupted run with the same seed, bit for bit; a kill never leaves a checkpoint that does not load.
/// Real processes of the CLI, as a user's crash would be.</summary>
[Collection("processes")] // one CLI at a time: the random kill moments assume the run's normal pace
public class CrashSafetyTests
{
    static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "Learngene.Cli.dll");

    static Process Start(string workDir, string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workDir };
        psi.ArgumentList.Add(CliDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>A started CLI whose output is collected.</summary>
    sealed record Cli(Process Process, Task<string> Out, Task<string> Err) : IDisposable
    {
        public void Dispose() => Process.Dispose();
    }

    /// <summary>Starts the CLI collecting its output; with <paramref name="writeDelayMs"/> every file write is held
    /// open that long (a test hook), so a kill or a signal can be made to land inside one.</summary>
    static Cli StartCollecting(string workDir, IEnumerable<string> args, int writeDelayMs = 0)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workDir };
        psi.ArgumentList.Add(CliDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (writeDelayMs > 0) psi.Environment["LEARNGENE_TEST_WRITE_DELAY_MS"] = writeDelayMs.ToString();
        var p = Process.Start(psi)!;
        return new Cli(p, p.StandardOutput.ReadToEndAsync(), p.StandardError.ReadToEndAsync());
    }

    /// <summary>Sends SIGTERM (Ctrl-C's handler; a SIGINT is lost when tests run as a background job, whose
    /// children start with it ignored, as in CI) and returns the one error line of a clean stop (exit 130).</summary>
    static string Terminate(Cli cli)
    {
        using (var kill = Process.Start("kill", ["-TERM", cli.Process.Id.ToString()])!) kill.WaitForExit();
        cli.Process.WaitForExit();
        Assert.True(cli.Process.ExitCode == 130, $"exit {cli.Process.ExitCode}; stdout: {cli.Out.Result}; stderr: {cli.Err.Result}");
        return Assert.Single(cli.Err.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Runs to the end; returns the wall time.</summary>
    static TimeSpan RunToEnd(string workDir, string[] args)
    {
        var clock = Stopwatch.StartNew();
        var (code, _, err) = CliTests.Run(args, workDir);
        Assert.True(code == 0, $"{string.Join(' ', args)}: {err}");
        return clock.Elapsed;
    }

    /// <summary>Starts the run, kills it (SIGKILL) at <paramref name="kills"/> random moments of its life,
    /// continuing it with <paramref name="resume"/> after each (or <paramref name="start"/> when nothing was
    /// saved yet), then lets it finish. After every kill, every checkpoint in the folder must load.</summary>
    static void KillAndResume(string workDir, string runDir, string[] start, string[] resume, TimeSpan typical, int kills, int seed)
    {
        var random = new Random(seed);
        int killed = 0, killedAfterCheckpoint = 0;
        IEnumerable<string> Checkpoints() => Directory.Exists(runDir) ? Directory.EnumerateFiles(runDir, "checkpoint.safetensors", SearchOption.AllDirectories) : [];
        bool Begun() => File.Exists(Path.Combine(runDir, "run.json")) || File.Exists(Path.Combine(runDir, "preset.json"));
        void Kill(Process p)
        {
            bool saved = Checkpoints().Any();
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            killed++;
            if (saved) killedAfterCheckpoint++;
            foreach (var checkpoint in Checkpoints())
            {
                var (tensors, _) = SafeTensors.Load(checkpoint); // whole and matching its SHA-256, or the test fails
                foreach (var t in tensors.Values) t.Dispose();
            }
        }
        for (int k = 0; k < kills; k++)
        {
            using var p = Start(workDir, Begun() ? resume : start);
            int ms = 300 + random.Next(Math.Max(1, (int)(typical.TotalMilliseconds * 0.9) - 300));
            if (!p.WaitForExit(ms)) Kill(p);
        }
        // The random moments may all fall before the first checkpoint, or after the end (a slow first run makes
        // the typical time long): then one more kill, once a
        // checkpoint exists, so that resuming from one after a kill is always exercised.
        if (killedAfterCheckpoint == 0)
        {
            using var p = Start(workDir, Begun() ? resume : start);
            var clock = Stopwatch.StartNew();
            while (!Checkpoints().Any() && !p.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(10);
            if (!p.WaitForExit(random.Next(50, 300))) Kill(p);
        }
        Assert.True(killed > 0, "no kill landed before the run ended");
        Assert.True(killedAfterCheckpoint > 0, "no kill landed while a checkpoint existed (the run ended first)");
        bool started = File.Exists(Path.Combine(runDir, "run.json")) || File.Exists(Path.Combine(runDir, "preset.json"));
        RunToEnd(workDir, started ? resume : start);
    }

    static void AssertSameTensors(string expected, string actual)
    {
        var (a, _) = SafeTensors.Load(expected);
        var (b, _) = SafeTensors.Load(actual);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, t) in a) Assert.True(t.equal(b[name]).all().item<bool>(), $"{actual}: tensor {name} differs from the uninterrupted run's");
        foreach (var t in a.Values.Concat(b.Values)) t.Dispose();
    }

    static readonly string[] Classifier = ["train", "--preset", "smoke", "--data", "fashion-mnist", "--epochs", "3", "--train-limit", "600", "--test-limit", "200"];

    [Fact]
    public void A_killed_classifier_run_resumes_to_the_same_weights()
    {
        string dir = TestData.TempDir();
        var typical = RunToEnd(dir, [.. Classifier, "--out", "straight"]);
        KillAndResume(dir, Path.Combine(dir, "killed"), [.. Classifier, "--out", "killed"], ["train", "--resume", "killed"], typical, kills: 3, seed: 1);
        AssertSameTensors(Path.Combine(dir, "straight", "model.safetensors"), Path.Combine(dir, "killed", "model.safetensors"));
    }

    [Fact]
    public void A_killed_learngene_distillation_resumes_to_the_same_learngene()
    {
        string dir = TestData.TempDir();
        RunToEnd(dir, [.. Classifier, "--out", "teacher"]);
        string[] learn = ["learn", "tleg", "--preset", "smoke", "--teacher", "teacher/model.safetensors", "--epochs", "3", "--train-limit", "600", "--test-limit", "200"];
        var typical = RunToEnd(dir, [.. learn, "--out", "straight"]);
        KillAndResume(dir, Path.Combine(dir, "killed"), [.. learn, "--out", "killed"], ["train", "--resume", "killed"], typical, kills: 3, seed: 2);
        AssertSameTensors(Path.Combine(dir, "straight", "learngene.safetensors"), Path.Combine(dir, "killed", "learngene.safetensors"));
    }

    [Fact]
    public void A_killed_pool_run_resumes_to_the_same_pool()
    {
        string dir = TestData.TempDir();
        string[] pool = ["learn", "pool", "--preset", "smoke"];
        var typical = RunToEnd(dir, [.. pool, "--out", "straight"]);
        KillAndResume(dir, Path.Combine(dir, "killed"), [.. pool, "--out", "killed"], [.. pool, "--out", "killed"], typical, kills: 3, seed: 3);
        AssertSameTensors(Path.Combine(dir, "straight", "pool-learned.safetensors"), Path.Combine(dir, "killed", "pool-learned.safetensors"));
    }

    [Fact]
    public void A_killed_diffusion_run_resumes_to_the_same_weights()
    {
        string dir = TestData.TempDir();
        string[] dit = ["diffusion", "train", "--preset", "smoke", "--data", "mnist", "--epochs", "3", "--train-limit", "400"];
        var typical = RunToEnd(dir, [.. dit, "--out", "straight"]);
        KillAndResume(dir, Path.Combine(dir, "killed"), [.. dit, "--out", "killed"], ["diffusion", "train", "--resume", "killed"], typical, kills: 3, seed: 4);
        AssertSameTensors(Path.Combine(dir, "straight", "model.safetensors"), Path.Combine(dir, "killed", "model.safetensors"));
    }

    [Fact]
    public void A_killed_comparison_rerun_gives_the_same_descendants()
    {
        string dir = TestData.TempDir();
        string[] compare = ["bench", "compare", "--preset", "smoke", "--depths", "2"];
        var typical = RunToEnd(dir, [.. compare, "--out", "straight"]);
        KillAndResume(dir, Path.Combine(dir, "killed"), [.. compare, "--out", "killed"], [.. compare, "--out", "killed"], typical, kills: 2, seed: 5);
        var straight = Directory.GetFiles(Path.Combine(dir, "straight", "descendants"), "*.safetensors", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(Path.Combine(dir, "straight"), f)).Order().ToList();
        Assert.NotEmpty(straight);
        foreach (var f in straight) AssertSameTensors(Path.Combine(dir, "straight", f), Path.Combine(dir, "killed", f));
        Assert.True(File.Exists(Path.Combine(dir, "killed", "results.json")));
    }

    [Fact]
    public void A_kill_inside_a_checkpoint_write_keeps_the_last_good_checkpoint()
    {
        string dir = TestData.TempDir();
        RunToEnd(dir, [.. Classifier, "--out", "straight"]);
        // Every write is held open for a while (a test hook), so the kill lands inside one for certain.
        using var cli = StartCollecting(dir, [.. Classifier, "--out", "killed"], writeDelayMs: 1500);
        var p = cli.Process;
        string run = Path.Combine(dir, "killed"), checkpoint = Path.Combine(run, Learngene.Training.Trainer.CheckpointName);
        // Wait for the epoch-1 checkpoint, then for the epoch-2 checkpoint's temporary: kill while it is written.
        var clock = Stopwatch.StartNew();
        bool Wait(Func<bool> done) { while (!done() && clock.Elapsed < TimeSpan.FromSeconds(90)) Thread.Sleep(5); return done(); }
        Assert.True(Wait(() => File.Exists(checkpoint)));
        var firstEpoch = File.ReadAllBytes(checkpoint);
        Assert.True(Wait(() => Directory.EnumerateFiles(run, Learngene.Training.Trainer.CheckpointName + ".tmp*").Any()));
        p.Kill(entireProcessTree: true);
        p.WaitForExit();
        Assert.Equal(firstEpoch, File.ReadAllBytes(checkpoint)); // untouched by the half-written one
        Assert.Equal(1, Learngene.Training.Checkpoint.ReadState(checkpoint).EpochsDone);
        RunToEnd(dir, ["train", "--resume", "killed"]);
        Assert.Empty(Directory.EnumerateFiles(run, "*.tmp*")); // the killed writer's temporary is gone
        AssertSameTensors(Path.Combine(dir, "straight", "model.safetensors"), Path.Combine(run, "model.safetensors"));
    }

    [Fact]
    public void A_stop_signal_after_an_epochs_last_step_stops_after_that_epoch_and_resumes_to_the_same_weights()
    {
        string dir = TestData.TempDir();
        RunToEnd(dir, [.. Classifier, "--out", "straight"]);
        // The checkpoint's write is held open: the signal lands inside it.
        using var cli = StartCollecting(dir, [.. Classifier, "--out", "stopped"], writeDelayMs: 1500);
        string run = Path.Combine(dir, "stopped");
        var clock = Stopwatch.StartNew();
        while (!(Directory.Exists(run) && Directory.EnumerateFiles(run, Learngene.Training.Trainer.CheckpointName + ".tmp*").Any()) && clock.Elapsed < TimeSpan.FromSeconds(90)) Thread.Sleep(5);
        string line = Terminate(cli);
        Assert.StartsWith("error: interrupted after epoch 1", line);
        Assert.Equal(1, Learngene.Training.Checkpoint.ReadState(Path.Combine(run, Learngene.Training.Trainer.CheckpointName)).EpochsDone);
        Assert.False(File.Exists(Path.Combine(run, "model.safetensors")));
        RunToEnd(dir, ["train", "--resume", "stopped"]);
        AssertSameTensors(Path.Combine(dir, "straight", "model.safetensors"), Path.Combine(run, "model.safetensors"));
    }

    [Fact]
    public async Task A_stop_signal_stops_cleanly_with_one_line_and_the_run_resumes_to_the_same_weights()
    {
        string dir = TestData.TempDir();
        string[] longer = ["train", "--preset", "smoke", "--data", "fashion-mnist", "--epochs", "5", "--train-limit", "6000", "--test-limit", "200"];
        RunToEnd(dir, [.. longer, "--out", "straight"]);
        using var cli = StartCollecting(dir, [.. longer, "--out", "stopped"]);
        // Once the first epoch's checkpoint is written, a stop signal in the middle of the next.
        var clock = Stopwatch.StartNew();
        while (!File.Exists(Path.Combine(dir, "stopped", Learngene.Training.Trainer.CheckpointName)) && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(20);
        Thread.Sleep(50);
        string line = Terminate(cli);
        Assert.StartsWith("error: interrupted at step", line);
        Assert.Contains("--resume", line);
        Assert.Contains("stopping after the current step", await cli.Out);
        RunToEnd(dir, ["train", "--resume", "stopped"]);
        AssertSameTensors(Path.Combine(dir, "straight", "model.safetensors"), Path.Combine(dir, "stopped", "model.safetensors"));
    }
}
