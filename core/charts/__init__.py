"""Pictures (no Streamlit): colours, the PNG raster, the heatmap, replay, what-if, sensitivity and
accuracy charts, and the downloads."""

from core._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "core.charts.axes": ("ABS_DOLLAR_LABEL", "AXIS_FONT", "DOLLAR_LABEL", "UNSIGNED_DOLLAR_LABEL", "dollar_axis"),
    "core.charts.colours": ("DIVERGING_ANCHORS", "EMBER_ANCHORS", "diverging_hex", "diverging_lut",
                            "ember_hex", "ember_lut", "ember_rgba", "hex_to_rgb", "lut_to_hex", "oklab_ramp",
                            "oklab_to_srgb", "srgb_to_oklab"),
    "core.charts.raster": ("Raster", "block_mean", "cells_of", "colour_top", "default_view_range", "group_edges",
                           "raster_of", "render_raster", "side_grid", "visible_rows"),
    "core.charts.heatmap": ("TOOLTIP_FIELDS", "colour_legend", "heatmap_chart", "price_path",
                            "profile_chart", "profile_frame", "tooltip_cells"),
    "core.charts.market": ("market_chart", "oi_domain"),
    "core.charts.replay_frames": ("BACKDROP", "BACKDROP_COLS", "BAR_SPANS", "DATASETS", "PATH_POINTS", "PROFILE_ROWS", "REPLAY_MAX_COLS",
                                  "REPLAY_MAX_ROWS", "ReplayLayout", "bar_span", "cascade_windows",
                                  "frame_step", "map_band_labels", "moment_summary", "period_flows",
                                  "replay_backdrop", "replay_colour_top", "replay_frame", "replay_index",
                                  "replay_layout", "replay_raster", "replay_spec",
                                  "slider_time", "span_words"),
    "core.charts.replay": ("replay_template",),
    "core.charts.whatif": ("step_label", "swept_frame", "whatif_chart", "whatif_range"),
    "core.charts.sensitivity": ("ComparedPictures", "compared_heatmap_chart", "compared_pictures",
                                "difference_cells", "difference_chart", "difference_legend", "difference_raster", "gradient_legend", "hover_cells",
                                "profile_comparison_chart", "shared_legend", "shared_rasters", "signed_usd",
                                "sweep_chart", "sweep_frame", "sweep_panels", "value_text"),
    "core.charts.accuracy": ("calibration_chart", "calibration_frame", "per_candle_chart", "per_candle_frame",
                             "raster_scales", "realized_layer", "realized_points", "score_reading",
                             "skipped_frame"),
    "core.charts.export": ("csv_safe", "escape_cell", "grid_frame", "to_csv_bytes"),
})
