description = 'vehicle changing lanes to the right'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
result = changing_lanes(vehicles, log_dir, direction='right')
output_scenario(result, description, log_dir, output_dir)
