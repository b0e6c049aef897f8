using System.Text.Json;
using Learngene.Data;
using Learngene.Models;
using Learngene.Training;
using Learngene.Training.Objectives;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Methods.Pool;

/// <summary>Learngene Pool's distillation of a small ViT (an instance) from a ViT teacher (docs/methods/pool.md):
/// <c>α·CE + (1 − α)·[softKD + Σ_p MSE(h_s,p, M_p h_t,p) + Σ_p MSE(a_s,p, A_p a_t,p)]</c>, with h the
/// outputs and a the attention branches of matched blocks, and M_p, A_p linear maps from the teacher's
/// width to the student's. The maps are this objective's own parameters: they train with the student and
/// are saved in its checkpoints. Metrics: loss, accuracy, kd, features (the summed MSE terms).</summary>
public sealed class FeatureDistillation : IObjective
{
    /// <summary>Matched blocks (student index, teacher index), α and the KD temperature. Default: the
    /// last block of each, α = 0.1, T = 1 (the authors' values). <paramref name="IdentityMaps"/>: maps between
    /// equal widths (an instance as wide as the teacher) start as the identity with zero bias, so that the
    /// instance is tied to the teacher's coordinates from the start (the authors: a random init, Kaiming).</summary>
    public sealed record Settings(int[] StudentBlocks, int[] TeacherBlocks, double Alpha = 0.1, double Temperature = 1.0, bool IdentityMaps = false);

    public static readonly ObjectiveFactory Factory = new("feature-distillation",
        "Learngene Pool's instance distillation: CE, soft KD and MSE on matched block outputs and attention branches through learned teacher→student maps", Create);

    readonly Settings settings;
    readonly VisionTransformer teacher;
    readonly Normalization? teacherNorm;
    readonly Normalization dataNorm;
    readonly Maps maps;

    /// <summary>The learned maps M_p (<c>blocks.p</c>) and A_p (<c>attention.p</c>), one per matched position.</summary>
    public sealed class Maps : nn.Module
    {
        public readonly ModuleList<Linear> blocks, attention;

        public Maps(int positions, int teacherWidth, int studentWidth, bool identity = false) : base("maps")
        {
            blocks = new ModuleList<Linear>(Enumerable.Range(0, positions).Select(_ => nn.Linear(teacherWidth, studentWidth)).ToArray());
            attention = new ModuleList<Linear>(Enumerable.Range(0, positions).Select(_ => nn.Linear(teacherWidth, studentWidth)).ToArray());
            RegisterComponents();
            if (identity && teacherWidth == studentWidth)
                using (torch.no_grad())
                    foreach (var map in blocks.Concat(attention))
                    {
                        using var eye = torch.eye(studentWidth);
                        map.weight!.copy_(eye);
                        map.bias!.zero_();
                    }
        }
    }

    public FeatureDistillation(Settings settings, VisionTransformer student, VisionTransformer teacher, Normalization dataNorm, Normalization? teacherNorm = null)
    {
        if (settings.StudentBlocks.Length != settings.TeacherBlocks.Length || settings.StudentBlocks.Length == 0)
            throw new LearngeneException("feature distillation needs as many teacher blocks as student blocks to match, at least one");
        if (settings.StudentBlocks.Any(b => b < 0 || b >= student.Architecture.Depth) || settings.TeacherBlocks.Any(b => b < 0 || b >= teacher.Architecture.Depth))
            throw new LearngeneException($"matched blocks out of range (student depth {student.Architecture.Depth}, teacher depth {teacher.Architecture.Depth})");
        if (student.Architecture.ImageSize / student.Architecture.PatchSize != teacher.Architecture.ImageSize / teacher.Architecture.PatchSize || student.Architecture.Pooling != teacher.Architecture.Pooling)
            throw new LearngeneException("feature distillation matches tokens one to one: student and teacher need the same patch grid and pooling");
        this.settings = settings;
        this.teacher = teacher;
        this.teacherNorm = teacherNorm;
        this.dataNorm = dataNorm;
        maps = new Maps(settings.StudentBlocks.Length, teacher.Architecture.Width, student.Architecture.Width, settings.IdentityMaps);
        teacher.eval();
    }

    /// <summary>The default matching: the last student block with the last teacher block.</summary>
    public static Settings LastBlocks(int studentDepth, int teacherDepth) => new([studentDepth - 1], [teacherDepth - 1]);

    static IObjective Create(ObjectiveContext c)
    {
        var student = c.Model as VisionTransformer ?? throw new LearngeneException("feature distillation trains a ViT");
        var teacher = c.Teacher?.Model as VisionTransformer ?? throw new LearngeneException("feature distillation needs a ViT teacher", setting: "teacher");
        Settings settings;
        try { settings = c.Settings is null ? LastBlocks(student.Architecture.Depth, teacher.Architecture.Depth) : JsonSerializer.Deserialize<Settings>(c.Settings, ModelConfig.Json)!; }
        catch (JsonException) { throw new LearngeneException($"feature distillation settings '{c.Settings}' do not parse"); }
        return new FeatureDistillation(settings, student, teacher, c.DataNormalization, c.Teacher!.Normalization);
    }

    public nn.Module? Own => maps;

    public void MoveTo(Device device)
    {
        teacher.to(device);
        maps.to(device);
    }

    public ObjectiveStep Step(nn.Module model, Tensor images, Tensor labels)
    {
        var (logits, blocks, attention) = ((VisionTransformer)model).ForwardFeatures(images);
        List<Tensor> teacherBlocks, teacherAttention;
        Tensor teacherLogits;
        using (torch.no_grad())
        {
            (teacherLogits, teacherBlocks, teacherAttention) = teacher.ForwardFeatures(dataNorm.Renormalize(images, teacherNorm));
        }
        var ce = Losses.CrossEntropy(logits, labels);
        var kd = Losses.SoftDistillation(logits, teacherLogits, settings.Temperature);
        var features = torch.zeros([], device: logits.device);
        for (int p = 0; p < settings.StudentBlocks.Length; p++)
        {
            int s = settings.StudentBlocks[p], t = settings.TeacherBlocks[p];
            features = features + nn.functional.mse_loss(blocks[s], maps.blocks[p].forward(teacherBlocks[t]))
                                + nn.functional.mse_loss(attention[s], maps.attention[p].forward(teacherAttention[t]));
        }
        var loss = settings.Alpha * ce + (1 - settings.Alpha) * (kd + features);
        long n = images.shape[0];
        return new ObjectiveStep(loss, n, new Dictionary<string, double>
        {
            ["loss"] = loss.item<float>() * n, ["accuracy"] = logits.argmax(1).eq(labels).sum().item<long>(),
            ["kd"] = kd.item<float>() * n, ["features"] = features.item<float>() * n,
        });
    }

    public IReadOnlyDictionary<string, double> Evaluate(nn.Module model, ImageDataset data, Normalization norm, int batchSize, Device device)
    {
        var e = Classification.Predict((nn.Module<Tensor, Tensor>)model, data, norm, batchSize, device);
        Predictions = new TestPredictions(e.Labels, new Dictionary<string, int[]> { ["accuracy"] = e.Predicted });
        return new Dictionary<string, double> { ["loss"] = e.Loss, ["accuracy"] = e.Accuracy };
    }

    public TestPredictions? Predictions { get; private set; }

    public void Dispose() => maps.Dispose(); // the teacher belongs to whoever loaded it
}
