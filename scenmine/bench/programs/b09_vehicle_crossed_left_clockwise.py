description = 'vehicle overtaken on its left'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
moving = scenario_not(stationary)(vehicles, log_dir)
result = being_crossed_by(moving, moving, log_dir, direction='left', in_direction='clockwise', forward_thresh=4)
output_scenario(result, description, log_dir, output_dir)
