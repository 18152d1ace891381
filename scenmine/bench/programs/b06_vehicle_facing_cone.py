description = 'vehicle facing a construction cone or barrel'
vehicles = get_objects_of_category(log_dir, category='VEHICLE')
cones = scenario_or([get_objects_of_category(log_dir, category='CONSTRUCTION_CONE'), get_objects_of_category(log_dir, category='CONSTRUCTION_BARREL')])
result = facing_toward(vehicles, cones, log_dir, within_angle=45, max_distance=25)
output_scenario(result, description, log_dir, output_dir)
