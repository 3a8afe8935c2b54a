-- Which model versions were trained on which feature file?
SELECT m.name AS model, v.version, f.filename, substr(f.sha256, 1, 12) AS sha256,
       substr(f.run_id, 1, 8) AS feature_run
FROM model_versions v
JOIN registered_models m ON m.id = v.model_id
JOIN input_links l ON l.run_id = v.run_id
JOIN dataset_fingerprints f ON f.run_id = l.source_run_id AND f.sha256 = l.sha256
ORDER BY m.name, v.version;
