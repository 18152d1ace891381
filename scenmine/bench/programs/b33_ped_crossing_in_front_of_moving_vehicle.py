description = 'pedestrian crossing in front of a moving vehicle, left to right'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
moving = scenario_and([has_velocity(vehicles, log_dir, min_velocity=1), on_road(vehicles, log_dir)])
peds = get_objects_of_category(log_dir, category='PEDESTRIAN')
crossed = being_crossed_by(moving, peds, log_dir, direction='forward', in_direction='counterclockwise', forward_thresh=20, lateral_thresh=8)
result = reverse_relationship(being_crossed_by)(moving, peds, log_dir, direction='forward', forward_thresh=20)
output_scenario(scenario_or([result, reverse_relationship(near_objects)(crossed, peds, log_dir, distance_thresh=30)]), description, log_dir, output_dir)
