
namespace LlmEff.Profiling.Torch.Tests.Profiling;

public sealed class ProfilingPlanTests
{
    [Fact]
    public void Paper_plan_uses_the_section_3_4_prompt_sizes()
    {
        var plan = ProfilingPlan.Paper.Validate();
        Assert.Equal([1, 256, 512, 1024, 1536], plan.PromptTokens); // paper §3.4
        Assert.Equal(64, plan.MaxOutputTokens);
        Assert.Equal(1536 + 64 - 1, plan.CapacityTokens);
        Assert.Equal(5 * 7 * 3, plan.TotalQueries);
        Assert.Equal(plan.TotalQueries, plan.Points().Distinct().Count());
    }

    [Fact]
    public void Bad_plans_name_the_value_and_the_fix()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ProfilingPlan.Create([0, 5], [1, 2]));
        Assert.Equal("PromptTokens", ex.ParamName);
        Assert.Contains("0,5", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => ProfilingPlan.Create([1], [4]));
        Assert.Throws<ArgumentException>(() => ProfilingPlan.Create([1, 1], [1, 2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ProfilingPlan.Create([1], [1, 2], trials: 0));
    }
}
