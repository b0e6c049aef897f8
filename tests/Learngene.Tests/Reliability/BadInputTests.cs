using System.Diagnostics;
using System.Net;
using System.Text;
using Learngene.Data;
using Learngene.IO;
using Learngene.Models;
using Learngene.Training;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Reliability;

/// <summary>Damaged, lying or hostile input: one clear error line and a non-zero exit, never a stack trace,
/// and nothing good overwritten.</summary>
public class BadInputTests
{
    static void OneLine((int Code, string Out, string Err) run, string expected)
    {
        Assert.NotEqual(0, run.Code);
        var lines = run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, run.Err);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
    }

    static string Header(string json, params byte[][] data)
    {
        string path = Path.Combine(TestData.TempDir(), "x.safetensors");
        var header = Encoding.UTF8.GetBytes(json);
        using var f = File.Create(path);
        f.Write(BitConverter.GetBytes((long)header.Length));
        f.Write(header);
        foreach (var d in data) f.Write(d);
        return path;
    }

    [Theory]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "outside the file")]                   // claims more data than there is
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", 16, "disagrees with its shape")]           // size ≠ shape × dtype
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 16, "outside the file")]                   // offset past the end
    [InlineData("{\"w\":{\"dtype\":\"Q7\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "unknown dtype")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", 16, "negative dimension")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,16]}}", 16, "more elements")] // overflows long
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1099511627776],\"data_offsets\":[0,4398046511104]}}", 16, "outside the file")] // 4 TiB: refused before allocating
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":\"4\",\"data_offsets\":[0,16]}}", 16, "malformed")]
    [InlineData("{\"__metadata__\":{\"format\":3},\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "not a string")]
    [InlineData("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"},\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "does not parse")] // a repeated metadata key
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"I32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "does not parse")]   // a repeated field in an entry
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, "overlap")]
    public void A_safetensors_header_that_lies_is_refused_with_its_reason(string header, int dataBytes, string expected)
    {
        string path = Header(header, new byte[dataBytes]);
        var e = Assert.Throws<LearngeneException>(() => SafeTensors.Load(path));
        Assert.Contains(expected, e.Message);
        OneLine(CliTests.Run("inspect", path), expected);
    }

    [Fact]
    public void A_header_length_larger_than_the_file_is_refused()
    {
        string path = Path.Combine(TestData.TempDir(), "x.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(long.MaxValue), .. "{}"u8.ToArray()]);
        OneLine(CliTests.Run("inspect", path), "header length");
    }

    [Fact]
    public void A_model_file_whose_shapes_do_not_match_its_architecture_is_refused()
    {
        using var model = new VisionTransformer(new VitConfig { Width = 16, Depth = 1, Heads = 2, Classes = 10 });
        var state = ModelFile.StateDict(model);
        state["head.weight"] = torch.zeros(10, 8);
        string path = Path.Combine(TestData.TempDir(), "m.safetensors");
        SafeTensors.Save(path, state, new Dictionary<string, string>
        {
            ["format"] = ModelFile.Format, ["config"] = model.Config.ToJson(),
            ["normalization"] = "{\"mean\":[0.5],\"std\":[0.25]}", ["classes"] = "[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]",
        });
        OneLine(CliTests.Run("eval", path, "--data", "fashion-mnist", "--test-limit", "10"), "tensor 'head.weight' has shape [10,8]");
    }

    [Fact]
    public void Damaged_IDX_files_are_refused()
    {
        string dir = TestData.TempDir();
        var data = new byte[2 * 4 * 4];
        IdxReader.Write(Path.Combine(dir, "ok.idx"), [2, 4, 4], data);
        var good = File.ReadAllBytes(Path.Combine(dir, "ok.idx"));
        File.WriteAllBytes(Path.Combine(dir, "short.idx"), good[..^5]);
        Assert.Contains("truncated", Assert.Throws<LearngeneException>(() => IdxReader.Read(Path.Combine(dir, "short.idx"))).Message);
        var flipped = (byte[])good.Clone();
        flipped[7] ^= 0x40; // the first dimension becomes 2 + 2²⁴·4: the header lies about the data
        File.WriteAllBytes(Path.Combine(dir, "flipped.idx"), flipped);
        Assert.Contains("promises", Assert.Throws<LearngeneException>(() => IdxReader.Read(Path.Combine(dir, "flipped.idx"))).Message);
        var huge = (byte[])good.Clone();
        huge[3] = 4; // rank 4 over the data: four dimensions of up to 2³¹
        Array.Fill(huge, (byte)0x7f, 4, 16);
        File.WriteAllBytes(Path.Combine(dir, "huge.idx"), huge);
        Assert.Throws<LearngeneException>(() => IdxReader.Read(Path.Combine(dir, "huge.idx")));
        IdxReader.Write(Path.Combine(dir, "ok.idx.gz"), [2, 4, 4], data, gzip: true);
        var gz = File.ReadAllBytes(Path.Combine(dir, "ok.idx.gz"));
        File.WriteAllBytes(Path.Combine(dir, "short.idx.gz"), gz[..^12]);
        Assert.Throws<LearngeneException>(() => IdxReader.Read(Path.Combine(dir, "short.idx.gz")));
        // Through the CLI: an idx: data set whose image file is cut short.
        Directory.CreateDirectory(Path.Combine(dir, "set"));
        foreach (var (split, n) in new[] { ("train", 6), ("t10k", 3) })
        {
            IdxReader.Write(Path.Combine(dir, "set", $"{split}-images-idx3-ubyte"), [n, 28, 28], new byte[n * 784]);
            IdxReader.Write(Path.Combine(dir, "set", $"{split}-labels-idx1-ubyte"), [n], new byte[n]);
        }
        var images = Path.Combine(dir, "set", "train-images-idx3-ubyte");
        File.WriteAllBytes(images, File.ReadAllBytes(images)[..1000]);
        OneLine(CliTests.Run("train", "--preset", "smoke", "--data", "idx:" + Path.Combine(dir, "set"), "--out", Path.Combine(dir, "run")), "truncated");
    }

    [Fact]
    public void Damaged_CIFAR_files_are_refused()
    {
        string dir = TestData.TempDir();
        var record = new byte[1 + 3072];
        for (int i = 1; i <= 5; i++) File.WriteAllBytes(Path.Combine(dir, $"data_batch_{i}.bin"), [.. record, .. record]);
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), record[..^100]); // truncated
        Assert.Contains("whole number", Assert.Throws<LearngeneException>(() => CifarDataset.Load(dir, cifar100: false)).Message);
        var bad = (byte[])record.Clone();
        bad[0] = 200; // a flipped label byte: class 200 of 10
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), bad);
        Assert.Contains("outside the 10 classes", Assert.Throws<LearngeneException>(() => CifarDataset.Load(dir, cifar100: false)).Message);
        OneLine(CliTests.Run("train", "--preset", "smoke", "--data", "cifar10:" + dir, "--out", Path.Combine(dir, "run")), "outside the 10 classes");
    }

    static byte[] Png(int side)
    {
        using var bmp = new SKBitmap(side, side);
        bmp.Erase(SKColors.Gray);
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("garbage")]
    [InlineData("huge")]
    [InlineData("jpeg-truncated")]
    public void Damaged_images_in_an_image_folder_are_refused_by_name(string damage)
    {
        string root = TestData.TempDir();
        foreach (var c in new[] { "a", "b" })
        {
            Directory.CreateDirectory(Path.Combine(root, c));
            for (int i = 0; i < 4; i++) File.WriteAllBytes(Path.Combine(root, c, $"{i}.png"), Png(8));
        }
        var png = Png(8);
        string bad = Path.Combine(root, "b", damage.StartsWith("jpeg") ? "z.jpg" : "z.png");
        switch (damage)
        {
            case "truncated": File.WriteAllBytes(bad, png[..20]); break;
            case "garbage": File.WriteAllBytes(bad, Encoding.ASCII.GetBytes("this is not an image at all")); break;
            case "huge":
                // The IHDR chunk claims 1 000 000 × 1 000 000 pixels (CRC left wrong: the claim is what must be refused).
                var lying = (byte[])png.Clone();
                lying[16] = 0x00; lying[17] = 0x0f; lying[18] = 0x42; lying[19] = 0x40;
                lying[20] = 0x00; lying[21] = 0x0f; lying[22] = 0x42; lying[23] = 0x40;
                File.WriteAllBytes(bad, lying);
                break;
            default:
                using (var bmp = new SKBitmap(8, 8))
                using (var jpg = bmp.Encode(SKEncodedImageFormat.Jpeg, 90))
                    File.WriteAllBytes(bad, jpg.ToArray()[..10]);
                break;
        }
        var e = Assert.Throws<LearngeneException>(() => ImageFolderDataset.Load(root, size: 8));
        Assert.Contains(bad, e.Message);
        OneLine(CliTests.Run("train", "--preset", "smoke", "--data", "imagefolder:" + root, "--out", Path.Combine(root, "..", Path.GetFileName(root) + "-run")), "z.");
    }

    [Fact]
    public void A_truncated_or_bit_flipped_deb_is_refused_by_its_pinned_checksum()
    {
        // A mirror (a local HTTP server) serving a damaged package: the download fails on its SHA-256, no file is left.
        var good = Encoding.ASCII.GetBytes("!<arch>\ndebian-binary   1342943816  0     0     100644  4         `\n2.0\n");
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(good));
        foreach (var served in new[] { good[..^10], good.Select((b, i) => i == 20 ? (byte)(b ^ 1) : b).ToArray() })
        {
            using var listener = new HttpListener();
            int port = Random.Shared.Next(20000, 60000);
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            listener.Start();
            var serve = Task.Run(() =>
            {
                var ctx = listener.GetContext();
                ctx.Response.OutputStream.Write(served);
                ctx.Response.Close();
            });
            string dest = Path.Combine(TestData.TempDir(), "x.deb");
            var e = Assert.Throws<LearngeneException>(() => DebianArchive.Download("pool/main/x/x.deb", sha, dest, [$"http://127.0.0.1:{port}"]));
            Assert.Contains("SHA-256", e.Message);
            Assert.False(File.Exists(dest));
            serve.Wait();
        }
    }

    /// <summary>Classification whose step at one chosen epoch and step is changed by <paramref name="change"/>.</summary>
    sealed class ChangedAt(IObjective inner, int epoch, int step, Func<ObjectiveStep, nn.Module, ObjectiveStep> change) : IObjective
    {
        int epochs = 1, steps;
        public ObjectiveStep Step(nn.Module model, Tensor inputs, Tensor targets)
        {
            var s = inner.Step(model, inputs, targets);
            return ++steps == step && epochs == epoch ? change(s, model) : s;
        }
        public IReadOnlyDictionary<string, double> Evaluate(nn.Module model, ImageDataset data, Normalization norm, int batchSize, Device device)
        {
            epochs++; steps = 0;
            return inner.Evaluate(model, data, norm, batchSize, device);
        }
        public void Dispose() => inner.Dispose();
    }

    /// <summary>The loss turns NaN.</summary>
    static ObjectiveStep NanLoss(ObjectiveStep s, nn.Module _) =>
        new(s.Loss * double.NaN, s.Count, s.Sums.ToDictionary(kv => kv.Key, kv => kv.Key == "loss" ? double.NaN : kv.Value));

    /// <summary>The loss stays finite but the last parameter's gradient is NaN: the loss gains 0·Σ√(w − w), zero in
    /// value, whose derivative at zero is 0·∞.</summary>
    static ObjectiveStep NanGradient(ObjectiveStep s, nn.Module model)
    {
        var w = model.parameters().Last();
        return s with { Loss = s.Loss + 0.0 * (w - w.detach()).sqrt().sum() };
    }

    /// <summary>Trains a small ViT for 3 epochs of 8 steps on synthetic data with one step changed; returns the
    /// error that stopped it, the run folder and the model.</summary>
    static (LearngeneException Error, string Dir, Classifier Model) Diverging(int epoch, int step, Func<ObjectiveStep, nn.Module, ObjectiveStep> change, double clip = 1.0)
    {
        var data = new DataSplits(TestData.Synthetic(256, seed: 1), TestData.Synthetic(64, seed: 2));
        var options = new TrainOptions { Epochs = 3, BatchSize = 32, LearningRate = 1e-3, WarmupEpochs = 0.2, ClipGrad = clip };
        var norm = Normalization.Of(data.Train);
        var model = Classifier.Create(new VitConfig { Width = 16, Depth = 1, Heads = 2, PatchSize = 7, Classes = 4 });
        string dir = TestData.TempDir();
        using var objective = new ChangedAt(new Learngene.Training.Objectives.Classification(options, norm), epoch, step, change);
        return (Assert.Throws<LearngeneException>(() => new Trainer(options) { RunDir = dir }.Fit(model, objective, data, norm)), dir, model);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.0)] // without clipping the norm is still checked
    public void A_NaN_gradient_with_a_finite_loss_stops_the_run_before_the_update_and_keeps_the_last_good_checkpoint(double clip)
    {
        // The epoch's last step (256 / 32 = 8): where a NaN gradient would reach every weight unseen.
        var (e, dir, model) = Diverging(epoch: 2, step: 8, NanGradient, clip);
        using var _ = model;
        Assert.Contains("step 8 of epoch 2", e.Message);
        Assert.True(e.Message.Contains("gradient norm is NaN"), e.Message);
        Assert.True(e.Message.Contains(model.named_parameters().Last().name), e.Message);
        Assert.Contains("checkpoint of epoch 1 is kept", e.Message);
        Assert.Equal(1, Checkpoint.ReadState(Path.Combine(dir, Trainer.CheckpointName)).EpochsDone);
        // The update never ran: every weight in memory is still finite.
        Assert.Empty(Learngene.Training.NonFinite.State(model));
    }

    [Fact]
    public void A_diverged_models_report_names_its_non_finite_parameters_and_buffers()
    {
        using var model = Classifier.Create(ModelPresets.Registry.Find("resnet-smoke").Config with { Classes = 4 });
        Assert.Empty(Learngene.Training.NonFinite.State(model));
        var state = model.state_dict();
        var runningVar = state.Keys.First(k => k.EndsWith("running_var"));
        using (torch.no_grad()) state[runningVar][0] = torch.tensor(float.NaN);
        Assert.Equal([runningVar], Learngene.Training.NonFinite.State(model));
    }

    [Fact]
    public void A_model_too_large_for_the_machine_is_refused_before_any_allocation_with_what_it_needs_and_what_there_is()
    {
        OneLine(CliTests.Run("train", "--preset", "smoke", "--depth", "100000", "--width", "100000"), "this machine has");
        // The same check for a config read from a file: a whole, hashed file claiming a huge architecture.
        string dir = TestData.TempDir(), path = Path.Combine(dir, "model.safetensors");
        using (var model = Classifier.Create(new VitConfig { Width = 16, Depth = 1, Heads = 2, PatchSize = 7, Classes = 10 }))
            ModelFile.Save(path, model, model, new Normalization([0.5f], [0.25f]), Enumerable.Range(0, 10).Select(k => k.ToString()).ToArray());
        var (tensors, meta) = SafeTensors.Load(path);
        meta["config"] = (new VitConfig { Width = 100_000, Depth = 100_000, Heads = 2, PatchSize = 7, Classes = 10 }).ToJson();
        SafeTensors.Save(path, tensors, meta);
        var run = CliTests.Run("eval", path, "--data", "fashion-mnist", "--test-limit", "10");
        OneLine(run, "this machine has");
        Assert.Contains(path, run.Err);
    }

    [Fact]
    public void Training_whose_batch_cannot_fit_is_refused_before_the_first_step()
    {
        var config = (VitConfig)ModelPresets.Registry.Find("vit-cpu").Config;
        var e = Assert.Throws<LearngeneException>(() => MemoryNeed.RequireTrainingFits(config, 10_000_000));
        Assert.Contains("batches of 10000000", e.Message);
        Assert.Contains("this machine has", e.Message);
        MemoryNeed.RequireTrainingFits(config, 128); // the small preset's batch fits anywhere this runs
    }

    [Fact]
    public void A_run_folder_in_use_by_another_process_is_refused_with_one_line_and_left_alone()
    {
        string dir = TestData.TempDir(), run = Path.Combine(dir, "run");
        string[] train = ["train", "--preset", "smoke", "--data", "fashion-mnist", "--epochs", "1", "--train-limit", "200", "--test-limit", "50"];
        var first = CliTests.Run([.. train, "--out", run], dir);
        Assert.True(first.Code == 0, first.Err);
        var model = File.ReadAllBytes(Path.Combine(run, "model.safetensors"));
        File.Delete(Path.Combine(run, Trainer.CheckpointName)); // as if still in its first epoch: resume restarts it
        using (Learngene.Runs.RunLock.Acquire(run)) // what the first process, still running, would hold
        {
            OneLine(CliTests.Run(["train", "--resume", run], dir), "in use by another Learngene process");
            OneLine(CliTests.Run([.. train, "--out", run], dir), "already holds a run");
        }
        Assert.Equal(model, File.ReadAllBytes(Path.Combine(run, "model.safetensors")));
        // A resume that names another architecture is refused even before the first checkpoint.
        OneLine(CliTests.Run(["train", "--resume", run, "--depth", "7"], dir), "another architecture");
    }

    [Fact]
    public void A_NaN_loss_stops_the_run_naming_the_step_and_keeps_the_last_good_checkpoint()
    {
        var (e, dir, model) = Diverging(epoch: 2, step: 5, NanLoss);
        model.Dispose();
        Assert.Contains("step 5 of epoch 2", e.Message);
        Assert.Contains("checkpoint of epoch 1 is kept", e.Message);
        var state = Checkpoint.ReadState(Path.Combine(dir, Trainer.CheckpointName));
        Assert.Equal(1, state.EpochsDone);
        var (tensors, _) = SafeTensors.Load(Path.Combine(dir, Trainer.CheckpointName));
        Assert.All(tensors.Where(kv => kv.Value.is_floating_point()), kv => Assert.False(kv.Value.isnan().any().item<bool>(), kv.Key));
    }

    /// <summary>Runs the CLI inside a private mount namespace where <paramref name="mountOptions"/> mount a
    /// tmpfs on the output folder: a small disk that fills, or a read-only one (root ignores permission bits).
    /// After the CLI, the folder's files are listed on stdout after a line <c>--- files</c> (the tmpfs goes
    /// with the namespace, so this is the only look at what the run left on it).</summary>
    static (int Code, string Out, string Err) InMount(string folder, string mountOptions, params string[] args)
    {
        Directory.CreateDirectory(folder);
        string cli = Path.Combine(AppContext.BaseDirectory, "Learngene.Cli.dll");
        string script = $"mount -t tmpfs -o {mountOptions} tmpfs '{folder}' || exit 99; dotnet '{cli}' " + string.Join(' ', args.Select(a => $"'{a}'")) +
                        $"; code=$?; echo '--- files'; find '{folder}' -type f; exit $code";
        var psi = new ProcessStartInfo("unshare", ["-m", "--propagation", "private", "sh", "-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    [Fact]
    public void A_full_disk_during_a_checkpoint_write_is_one_line_and_leaves_no_half_file()
    {
        string folder = Path.Combine(TestData.TempDir(), "small-disk");
        // 160 KiB: room for run.json and the metrics, not for the first checkpoint.
        var run = InMount(folder, "size=160k", "train", "--preset", "smoke", "--data", "fashion-mnist", "--out", Path.Combine(folder, "run"));
        OneLine(run, "could not write");
        Assert.Contains("checkpoint.safetensors", run.Err);
        Assert.DoesNotContain(".tmp", run.Err);
        // What the full disk kept: the run's description, no checkpoint and no half-written temporary.
        var files = run.Out[(run.Out.IndexOf("--- files", StringComparison.Ordinal) + 9)..].Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Path.GetFileName).ToList();
        Assert.Contains("run.json", files);
        Assert.DoesNotContain(Trainer.CheckpointName, files);
        Assert.DoesNotContain(files, f => f!.Contains(".tmp"));
    }

    [Fact]
    public void A_read_only_output_folder_is_one_line()
    {
        string folder = Path.Combine(TestData.TempDir(), "read-only");
        OneLine(InMount(folder, "ro", "train", "--preset", "smoke", "--data", "fashion-mnist", "--out", Path.Combine(folder, "run")), "Read-only file system");
    }
}
