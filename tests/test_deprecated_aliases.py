"""The old ``course_kit.<helper>`` modules keep working for one release, with a visible warning.

Student notebooks in the wild import ``course_kit.basics``, ``course_kit.segmentation``...
Those modules now re-export the ``lecture_helpers`` names and warn once with a FutureWarning,
which Python shows by default, in a script and in a Jupyter kernel alike.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import nbformat
import pytest
from realdata import REPO_ROOT

pytestmark = pytest.mark.slow  # one interpreter imports every helper (torch, fastai...)

#: The public names each old module had before the split (all must still be there).
OLD_API = {
    "basics": """NOISE_KINDS add_noise add_scale_bar bit_depth_explorer contrast_explorer data_source
        dataset_size_table encoded_size flat_field_correct format_comparison illumination_field
        jpeg_roundtrip orthogonal_views percentile_limits percentile_normalize
        plot_intensity_distributions pseudocolor_composite quantize rolling_ball_background
        show_bit_depths show_contrast_settings show_line_profiles show_pixel_values
        show_point_operations tiff_tag_table to_display""",
    "deep": """FROM_SCRATCH_MESSAGE SCALES SMALL_CNN_NAME Settings SmallCellCNN cell_aug_transforms
        class_weights classification_summary dataloaders_from_arrays export_classifier
        get_image_files_per_class get_settings grad_cam load_classifier make_learner
        network_input oversampling_weights plot_first_layer_filters predict_image
        pretrained_weights_available set_seed setup show_grad_cams training_history""",
    "segmentation": """DEFAULT_IOU_THRESHOLDS ERROR_COLOURS MatchResult average_precision
        classify_errors crowded_window error_gallery evaluate_dataset iou_matrix match_instances
        remove_small_objects segment_nuclei show_segmentation_errors split_touching_objects
        summarize_errors""",
    "measure": """DEFAULT_PROPERTIES arrange_by_group between_group_share crops_from_table
        extract_crops image_features local_background measure_objects quality_flags
        texture_features touches_border""",
    "embeddings": """ConvAutoencoder classical_features cluster_agreement cnn_embeddings decode
        encode images_to_tensor kmeans_clusters latent_traversal multi_contrast_features pca_map
        reconstruct standardize train_autoencoder tsne_map umap_available umap_or_tsne_map""",
    "viz": """montage overlay_labels plot_confusion_matrix plot_embedding plot_training_curves
        show_images show_with_histogram""",
    "tracking": """LINEAGE_COLUMNS THRESHOLDS Tracks classify_motion detect_nuclei
        detections_from_masks divisions_table estimate_drift link_detections motion_summary
        msd_exponent msd_table plot_lineage register_frames remove_drift tracking_scores
        tracks_to_ctc""",
    "palette": "ERRORS OKABE_ITO OVERLAY QC SPLITS rgb255",
    "public_data": "MANIFEST_NAME fetch_plane open_multiscales verify_manifest write_ngff_twin",
}

_PROBE = textwrap.dedent(
    """
    import json, sys, warnings

    old_api = json.loads(sys.argv[1])
    report = {}
    for old, names in old_api.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            namespace = {}
            exec(f"import course_kit.{old} as module", namespace)  # as a notebook line would
            exec(f"import course_kit.{old}", {})  # a second import: no second warning
            module = namespace["module"]
        missing, elsewhere = [], []
        for name in names.split():
            value = getattr(module, name, None)
            if value is None:
                missing.append(name)
                continue
            home = getattr(value, "__module__", None)
            if home is not None and not home.startswith("lecture_helpers."):
                elsewhere.append(f"{name}: {home}")
        report[old] = {
            "warnings": [
                [w.category.__name__, str(w.message), w.filename] for w in caught
            ],
            "missing": missing,
            "elsewhere": elsewhere,
        }
    print(json.dumps(report))
    """
)


@pytest.fixture(scope="module")
def probe() -> dict:
    old_api = {name: " ".join(names.split()) for name, names in OLD_API.items()}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(old_api)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("old", sorted(OLD_API))
def test_old_module_keeps_every_public_name(probe, old):
    assert probe[old]["missing"] == [], f"course_kit.{old} lost names"
    assert probe[old]["elsewhere"] == [], "names must be the lecture_helpers objects"


@pytest.mark.parametrize("old", sorted(OLD_API))
def test_old_module_warns_once_and_names_the_new_modules(probe, old):
    caught = probe[old]["warnings"]
    assert len(caught) == 1, caught
    category, message, filename = caught[0]
    assert category == "FutureWarning"  # shown by default, unlike DeprecationWarning
    assert f"course_kit.{old} is deprecated" in message
    assert "lecture_helpers" in message
    # attributed to the line that imported the old module, not to the kit's own files
    assert filename == "<string>", filename


@pytest.mark.slow
def test_the_warning_is_visible_in_a_notebook(tmp_path):
    """In a real kernel the warning reaches the cell's output, once per kernel."""
    from course_kit.notebook_runner import run_notebook

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("from course_kit import segmentation as seg\nseg.segment_nuclei"),
        nbformat.v4.new_code_cell("from course_kit import segmentation\nprint('second import')"),
        nbformat.v4.new_code_cell("from lecture_helpers import nuclei_pipeline"),
    ]
    path = tmp_path / "old_imports.ipynb"
    nbformat.write(notebook, path)
    run = run_notebook(path, timeout=120)
    assert run.ok, run.error
    cells = nbformat.reads(run.notebook_json, as_version=4).cells

    def stderr(cell) -> str:
        return "".join(
            output.get("text", "")
            for output in cell.outputs
            if output.output_type == "stream" and output.name == "stderr"
        )

    assert "FutureWarning: course_kit.segmentation is deprecated" in stderr(cells[0])
    assert "from lecture_helpers import nuclei_pipeline" in stderr(cells[0])
    assert stderr(cells[1]) == "" and stderr(cells[2]) == ""
