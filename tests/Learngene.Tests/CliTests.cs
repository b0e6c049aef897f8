using System.Diagnostics;

namespace Learngene.Tests;

/// <summary>The command-line tool as a user runs it: exit codes, one-line errors, files it writes.</summary>
public class CliTests
{
    static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "Learngene.Cli.dll");

    public static (int Code, string Out, string Err) Run(params string[] args) => Run(args, null);

    /// <summary>Runs the CLI in <paramref name="workDir"/> (null: the tests' own).</summary>
    public static (int Code, string Out, string Err) Run(string[] args, string? workDir)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (workDir is not null) psi.WorkingDirectory = workDir;
        psi.ArgumentList.Add(CliDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("LEARNGENE_DEBUG");
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    static void AssertOneLineError(string[] args, string expected)
    {
        var (code, _, err) = Run(args);
        Assert.NotEqual(0, code);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void Unknown_data_set_is_one_line()
        => AssertOneLineError(["train", "--preset", "smoke", "--data", "imagenet-22k", "--out", TestData.TempDir() + "/r"], "unknown data set 'imagenet-22k'");

    [Fact]
    public void Unknown_preset_is_one_line()
        => AssertOneLineError(["train", "--preset", "huge", "--out", TestData.TempDir() + "/r"], "unknown preset 'huge'");

    [Fact]
    public void Patch_size_that_does_not_divide_a_given_image_size_is_one_line()
        => AssertOneLineError(["train", "--preset", "smoke", "--data", "mnist", "--patch-size", "5", "--image-size", "28", "--out", TestData.TempDir() + "/r"], "patch size 5 does not divide the image size 28");

    [Fact]
    public void Heads_that_do_not_divide_the_width_are_one_line()
        => AssertOneLineError(["train", "--preset", "smoke", "--data", "mnist", "--heads", "3", "--out", TestData.TempDir() + "/r"], "heads (3) must divide the width (32)");

    [Theory]
    [InlineData("--depth")]
    [InlineData("--width")]
    public void Depth_or_width_below_one_is_one_line(string option)
        => AssertOneLineError(["train", "--preset", "smoke", "--data", "mnist", option, "0", "--out", TestData.TempDir() + "/r"], "must be at least 1");

    [Fact]
    public void Missing_and_corrupt_model_files_are_one_line()
    {
        AssertOneLineError(["inspect", "/nonexistent/model.safetensors"], "file not found");
        string bad = Path.Combine(TestData.TempDir(), "bad.safetensors");
        File.WriteAllBytes(bad, [200, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]);
        AssertOneLineError(["eval", bad, "--data", "mnist"], "truncated or not safetensors");
    }

    [Fact]
    public void Train_eval_inspect_and_guarded_resume_end_to_end()
    {
        string run = Path.Combine(TestData.TempDir(), "run");
        var (code, output, err) = Run("train", "--preset", "smoke", "--data", "fashion-mnist", "--out", run);
        Assert.True(code == 0, err);
        Assert.Contains("test accuracy", output);
        foreach (var f in new[] { "run.json", "metrics.jsonl", "checkpoint.safetensors", "model.safetensors" })
            Assert.True(File.Exists(Path.Combine(run, f)), f);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(run, "tb")));
        var model = Path.Combine(run, "model.safetensors");

        (code, output, err) = Run("eval", model, "--data", "fashion-mnist", "--test-limit", "500");
        Assert.True(code == 0, err);
        Assert.Contains("accuracy", output);

        (code, output, _) = Run("inspect", model);
        Assert.Equal(0, code);
        Assert.Contains("parameters: 27,978", output);
        Assert.Contains("blocks.*.attn.qkv.weight", output);

        // Writing into a folder that holds a run is refused, and the run is untouched.
        var before = File.ReadAllBytes(model);
        AssertOneLineError(["train", "--preset", "smoke", "--data", "fashion-mnist", "--out", run], "already holds a run");
        Assert.Equal(before, File.ReadAllBytes(model));

        // Resuming with another architecture is refused.
        AssertOneLineError(["train", "--resume", run, "--depth", "3"], "another architecture");
    }

    [Fact]
    public void Every_verb_has_help()
    {
        foreach (var verb in new[] { "train", "eval", "inspect", "data", "bench", "quickstart" })
        {
            var (code, output, _) = Run(verb, "--help");
            Assert.Equal(0, code);
            Assert.Contains("Usage", output);
        }
    }
}

public class CliLearngeneTests
{
    /// <summary>A new folder holding teacher/model.safetensors, a smoke ResNet teacher.</summary>
    static string TrainSmokeTeacher()
    {
        string dir = TestData.TempDir();
        var (code, _, err) = CliTests.Run("train", "--preset", "smoke", "--model", "resnet-smoke", "--train-limit", "400", "--out", Path.Combine(dir, "teacher"));
        Assert.True(code == 0, err);
        return dir;
    }

    [Fact]
    public void Learn_expand_and_fine_tune_a_descendant_end_to_end()
    {
        string dir = TrainSmokeTeacher();
        int code; string err;
        (code, var output, err) = CliTests.Run("learn", "tleg", "--preset", "smoke", "--depth", "3", "--train-limit", "500",
            "--teacher", Path.Combine(dir, "teacher", "model.safetensors"), "--out", Path.Combine(dir, "gene"));
        Assert.True(code == 0, err);
        string gene = Path.Combine(dir, "gene", "learngene.safetensors");
        Assert.Contains(gene, output);

        (code, output, err) = CliTests.Run("expand", gene, "--depths", "1..3,5", "--out", Path.Combine(dir, "desc"));
        Assert.True(code == 0, err);
        Assert.Contains("4 descendants expanded", output);
        (code, output, err) = CliTests.Run("inspect", gene);
        Assert.True(code == 0, err);
        Assert.Contains("learngene (tleg)", output);
        Assert.Contains("expands to any depth", output);
        foreach (int d in new[] { 1, 2, 3, 5 }) Assert.True(File.Exists(Path.Combine(dir, "desc", $"depth-{d:D2}.safetensors")));

        (code, output, err) = CliTests.Run("train", "--preset", "smoke", "--data", "mnist", "--train-limit", "300",
            "--init", Path.Combine(dir, "desc", "depth-05.safetensors"), "--out", Path.Combine(dir, "ft"));
        Assert.True(code == 0, err);
        Assert.Contains("initialized from", output);

        // Errors: another width, a model file where a learngene is expected, a learn run without a teacher.
        (code, _, err) = CliTests.Run("expand", gene, "--width", "64", "--out", Path.Combine(dir, "x"));
        Assert.Equal(2, code);
        Assert.Contains("descendants have width 32, not 64", err);
        (code, _, err) = CliTests.Run("expand", Path.Combine(dir, "teacher", "model.safetensors"), "--out", Path.Combine(dir, "y"));
        Assert.Equal(2, code);
        Assert.Contains("not a learngene file", err);
        (code, _, err) = CliTests.Run("expand", gene, "--depths", "0..3", "--out", Path.Combine(dir, "z"));
        Assert.Equal(2, code);
        Assert.Contains("depths", err);
    }

    [Fact]
    public void SWS_and_the_baseline_initializers_from_the_command_line()
    {
        string dir = TrainSmokeTeacher();
        int code; string err;
        (code, var output, err) = CliTests.Run("learn", "sws", "--preset", "smoke", "--stages", "1,2,1", "--train-limit", "300",
            "--teacher", Path.Combine(dir, "teacher", "model.safetensors"), "--out", Path.Combine(dir, "gene"));
        Assert.True(code == 0, err);
        string gene = Path.Combine(dir, "gene", "learngene.safetensors");
        (code, output, err) = CliTests.Run("expand", gene, "--layers-source", "0,1,1,1,2", "--out", Path.Combine(dir, "sws"));
        Assert.True(code == 0, err);
        Assert.Contains("1 descendants expanded", output);
        string ancestry = Path.Combine(dir, "sws", "depth-05.safetensors");
        Assert.True(File.Exists(ancestry));
        (code, _, err) = CliTests.Run("expand", gene, "--layers-source", "0,2,1", "--out", Path.Combine(dir, "bad"));
        Assert.Equal(2, code);
        Assert.Contains("keep stages in order", err);

        // Baselines: a 5-layer ViT (the SWS descendant above) serves as the ancestry.
        (code, output, err) = CliTests.Run("expand", "--init", "weight-selection", "--ancestry", ancestry, "--depths", "2,3", "--out", Path.Combine(dir, "ws"));
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(dir, "ws", "depth-03.safetensors")));
        (code, output, err) = CliTests.Run("train", "--preset", "smoke", "--data", "mnist", "--train-limit", "300", "--depth", "4",
            "--init", "heur-lg", "--ancestry", ancestry, "--out", Path.Combine(dir, "heur"));
        Assert.True(code == 0, err);
        Assert.Contains("initialized by heur-lg", output);
        (code, _, err) = CliTests.Run("train", "--preset", "smoke", "--init", "no-such-init", "--out", Path.Combine(dir, "x"));
        Assert.Equal(2, code);
        Assert.Contains("neither a model file nor an initializer", err);
        (code, _, err) = CliTests.Run("expand", "--init", "heur-lg", "--out", Path.Combine(dir, "y"));
        Assert.Equal(2, code);
        Assert.Contains("--ancestry", err);
        (code, _, err) = CliTests.Run("bench", "compare", "--methods", "tleg,nope", "--out", Path.Combine(dir, "z"));
        Assert.Equal(2, code);
        Assert.Contains("unknown method 'nope'", err);
    }

    [Fact]
    public void Learn_without_a_teacher_names_the_missing_option()
    {
        var (code, _, err) = CliTests.Run("learn", "tleg", "--preset", "smoke", "--out", TestData.TempDir() + "/g");
        Assert.NotEqual(0, code);
        Assert.Contains("--teacher", err);
    }
}

/// <summary>A command line that does not parse gets one line in words, whatever the option.</summary>
public class ParseErrorTests
{
    static IEnumerable<(string[] Path, System.CommandLine.Option Option)> Options(System.CommandLine.Command command, string[] path)
    {
        foreach (var o in command.Options) yield return (path, o);
        foreach (var sub in command.Subcommands)
            foreach (var x in Options(sub, [.. path, sub.Name])) yield return x;
    }

    [Fact]
    public void Every_numeric_options_parse_error_says_what_it_expects_in_words()
    {
        var root = Learngene.Cli.CliRoot.Create();
        static bool IsNumber(Type type) => (Nullable.GetUnderlyingType(type) ?? type) is var t && (t == typeof(int) || t == typeof(long) || t == typeof(double) || t == typeof(float));
        var numeric = Options(root, []).Where(x => IsNumber(x.Option.ValueType)).ToList();
        Assert.True(numeric.Count > 50, $"only {numeric.Count} numeric options found");
        foreach (var (path, option) in numeric)
        {
            var line = Learngene.Cli.CliRoot.ErrorLine(root.Parse([.. path, option.Name, "abc"]));
            string where = string.Join(' ', path) + " " + option.Name;
            Assert.NotNull(line);
            Assert.DoesNotContain("System.", line);
            Assert.True(System.Text.RegularExpressions.Regex.IsMatch(line!, @"expects (a number|a whole number( ≥ 1)?) \(got 'abc'\)$"), $"{where}: {line}");
            Assert.True(line!.StartsWith(option.Name), $"{where}: {line}");
        }
    }

    [Theory]
    [InlineData(new[] { "train", "--lr", "abc" }, "--lr expects a number (got 'abc')")]
    [InlineData(new[] { "train", "--epochs", "1.5" }, "--epochs expects a whole number ≥ 1 (got '1.5')")]
    [InlineData(new[] { "trian" }, "Unrecognized command or argument 'trian'")]
    [InlineData(new[] { "export", "x.safetensors", "--format", "tflite", "--out", "y" }, "--format expects one of timm, dit, onnx (got 'tflite')")]
    public void A_command_line_that_does_not_parse_is_one_line_with_code_2_and_no_help(string[] args, string expected)
    {
        var (code, output, err) = CliTests.Run(args);
        Assert.Equal(2, code);
        Assert.Equal($"error: {expected}", Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries)).Replace(" (see --help)", ""));
        Assert.DoesNotContain("Usage:", output);
    }
}
