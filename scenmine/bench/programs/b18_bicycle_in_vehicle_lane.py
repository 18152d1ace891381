description = 'bicyclist in the same lane as a vehicle'
bikes = scenario_or([get_objects_of_category(log_dir, category='BICYCLIST'), get_objects_of_category(log_dir, category='BICYCLE')])
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
result = in_same_lane(bikes, vehicles, log_dir)
output_scenario(result, description, log_dir, output_dir)
