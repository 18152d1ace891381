description = 'vehicle following the ego vehicle'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
ego = get_objects_of_category(log_dir, category='EGO_VEHICLE')
result = following(vehicles, ego, log_dir)
output_scenario(result, description, log_dir, output_dir)
