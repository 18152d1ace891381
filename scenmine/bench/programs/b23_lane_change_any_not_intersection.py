description = 'vehicle changing lanes away from intersections'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
changes = changing_lanes(vehicles, log_dir)
result = scenario_not(near_intersection)(changes, log_dir, threshold=15)
output_scenario(result, description, log_dir, output_dir)
