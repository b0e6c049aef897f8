using Learngene.Diffusion;
using Learngene.IO;
using Learngene.Methods.Kind;
using Learngene.Models;
using Learngene.Models.Linears;
using Learngene.Runs;
using Learngene.Training;
using TorchSharp;

namespace Learngene.Tests.Methods.Kind;

/// <summary>KIND's verbs as a user runs them: learn kind, train kind (transfer), expand --tailors, and sampling
/// the results; the learngenes stay bitwise unchanged through a transfer.</summary>
public class KindCliTests
{
    static (int Code, string Out, string Err) Run(params string[] args) => CliTests.Run(args);

    [Fact]
    public void Learn_transfer_and_recombine_a_kind_learngene_with_frozen_parts_bitwise_unchanged()
    {
        string dir = TestData.TempDir();
        string learn = Path.Combine(dir, "learn");
        var (code, output, err) = Run("learn", "kind", "--preset", "smoke", "--data", "mnist+fashion-mnist", "--classes", "0,1,10", "--learngene-rank", "6", "--tailor-rank", "2", "--out", learn);
        Assert.True(code == 0, err);
        string gene = Path.Combine(learn, "learngene.safetensors");
        Assert.Contains(gene, output);
        var meta = SafeTensors.ReadMetadata(gene);
        Assert.Equal(("learngene", "kind"), (meta["format"], meta["method"]));

        string transfer = Path.Combine(dir, "transfer");
        (code, output, err) = Run("train", "kind", "--gene", gene, "--preset", "smoke", "--data", "mnist", "--classes", "5,6", "--out", transfer);
        Assert.True(code == 0, err);
        Assert.Contains("parameters train", output);

        using (var scope = torch.NewDisposeScope())
        {
            var (init, _) = SafeTensors.Load(Path.Combine(transfer, "init.safetensors"));
            var (checkpoint, _) = SafeTensors.Load(Path.Combine(transfer, Trainer.CheckpointName));
            using var model = DiffusionFile.Load(Path.Combine(transfer, "model.safetensors"));
            Assert.Equal(["5", "6"], model.ClassNames);
            var saved = model.Network.state_dict();
            int frozen = 0, trained = 0;
            foreach (var (name, start) in init)
            {
                bool trains = name.Contains("tailor_") || name.StartsWith("y_embedder.");
                if (trains)
                {
                    trained++;
                    if (name.EndsWith("tailor_s")) Assert.False(checkpoint[$"model/{name}"].SameAs(start), $"{name} did not train");
                    continue;
                }
                frozen++;
                Assert.True(checkpoint[$"model/{name}"].SameAs(start), $"{name} changed in training");
                Assert.True(saved[name].SameAs(start), $"{name} changed in the weight average");
            }
            Assert.True(frozen > 20 && trained > 10, $"{frozen} frozen, {trained} trained");
            foreach (var t in init.Values.Concat(checkpoint.Values)) t.Dispose();
        }

        // Recombination: the learngenes plus class 10's tailor (a garment), and the learngenes alone.
        string genes = Path.Combine(dir, "recombined");
        (code, output, err) = Run("inspect", gene);
        Assert.True(code == 0, err);
        Assert.Contains("learngene (kind)", output);
        Assert.Contains("learngene rank", output);
        (code, output, err) = Run("expand", gene, "--tailors", "2", "--out", genes);
        Assert.True(code == 0, err);
        Assert.Contains("rank 8", output);
        (code, output, err) = Run("expand", gene, "--tailors", "none", "--out", genes);
        Assert.True(code == 0, err);
        Assert.Contains("rank 6", output);
        (code, _, err) = Run("diffusion", "sample", Path.Combine(genes, "tailors-2.safetensors"), "--per-class", "2", "--steps", "3", "--out", Path.Combine(dir, "samples"));
        Assert.True(code == 0, err);
        Assert.Single(Directory.GetDirectories(Path.Combine(dir, "samples"))); // one class: T-shirt/top

        // Errors: one line each.
        (code, _, err) = Run("expand", gene, "--tailors", "7", "--out", genes);
        Assert.NotEqual(0, code);
        Assert.Contains("class 7 is not one of the learngene's 3 classes", err);
        (code, _, err) = Run("expand", gene, "--depths", "2", "--out", genes);
        Assert.NotEqual(0, code);
        Assert.Contains("--depths does not apply to a kind learngene (it takes --tailors)", err);
        (code, _, err) = Run("expand", gene, "--out", genes);
        Assert.NotEqual(0, code);
        Assert.Contains("recombines with --tailors", err);
        (code, _, err) = Run("train", "kind", "--gene", Path.Combine(transfer, "model.safetensors"), "--preset", "smoke", "--data", "mnist", "--out", Path.Combine(dir, "bad"));
        Assert.NotEqual(0, code);
        Assert.Contains("not a learngene file", err);
        Assert.DoesNotContain("   at ", err);
        (code, _, err) = Run("train", "kind", "--gene", gene, "--preset", "smoke", "--data", "mnist", "--classes", "5,6", "--tailor-init", "gaussian", "--out", Path.Combine(dir, "bad-init"));
        Assert.NotEqual(0, code);
        Assert.Contains("unknown tailor initialization 'gaussian'", err);
        Assert.False(Directory.Exists(Path.Combine(dir, "bad-init")));

        // Zero tailors and a null tailor block, as asked: the null class's block follows the classes'; s starts at 0.
        string zero = Path.Combine(dir, "zero-null");
        (code, _, err) = Run("train", "kind", "--gene", gene, "--preset", "smoke", "--data", "mnist", "--classes", "5,6", "--tailor-init", "zero", "--null-tailor", "--epochs", "1", "--train-limit", "64", "--out", zero);
        Assert.True(code == 0, err);
        var form = (SvdForm)((DitConfig)RunSpec.Load(zero).Model).Linears!;
        Assert.Equal((2, 3), (form.NullTailor, form.TailorBlocks));
        using (var scope = torch.NewDisposeScope())
        {
            var (init, _) = SafeTensors.Load(Path.Combine(zero, "init.safetensors"));
            Assert.All(init.Where(kv => kv.Key.EndsWith("tailor_s")), kv => Assert.Equal(0f, kv.Value.abs().max().item<float>()));
        }
    }
}
